"""What the report and the rubric read off the aligned structures: a row per
reference layer, and every reference element the rubric credits with whether
the submission has it."""

from __future__ import annotations

from ..align import SKIPPABLE, Block
from ..report import LayerRow
from ..score import Element
from .context import Context
from .rules import config_of, type_name
from .text import jsonable


def rows(ctx: Context):
    """A row per reference layer: the student's layer in its place, if any."""
    layer_rows = []
    flagged = {f.location for f in ctx.d.findings if f.severity in ("error", "warning")}
    # where the first root is: a row that differs after it follows from it
    first_root = min((ctx.position(f.location) for f in ctx.d.findings
                      if f.caused_by is None and f.severity in ("error", "warning")), default=None)
    r_nodes = [n for n in ctx.R.graph.nodes.values()]
    for rn in r_nodes:
        sn = ctx.match.get(rn.id)
        if rn.op in ("concat", "add"):  # a merge: the block it makes (a residual block's addition too)
            sb = ctx.block_match.get(rn.id)
            sn = sb.concat if sb is not None else None
        loc = ctx.d.names.loc(rn)
        line = ctx.d.place(sn)
        layer_rows.append(LayerRow(
            location=loc, type=type_name(rn), output_shape=jsonable(sn.out_shape) if sn is not None else None,
            expected_output_shape=jsonable(rn.out_shape), params=sn.params if sn is not None else None,
            expected_params=rn.params, source=ctx.d.source_of(line) if line else None,
            config=config_of(sn) if sn is not None else {}, expected_config=config_of(rn),
            name=(sn.name or None) if sn is not None else None, status=_status(rn, sn, loc, flagged, first_root is not None and first_root <= ctx.position(loc))))
    ctx.layer_rows = layer_rows


def _status(rn, sn, loc: str, flagged: set, after_root: bool) -> str:
    """What the layer table says of a row: the diagnosis's verdict, not a literal
    comparison (a convolution without bias has fewer parameters, and is right)."""
    if sn is None or loc in flagged:
        return "wrong"
    differs = jsonable(sn.out_shape) != jsonable(rn.out_shape) or sn.params != rn.params
    return "follows" if differs and after_root else "ok"


def elements(ctx: Context):
    """Every reference element the rubric credits, with whether the
    submission has it (see grader/score.py for how they are counted)."""
    R, d, names = ctx.R, ctx.d, ctx.d.names
    part = d.parts.part
    E = []
    allowed = {f.location for f in d.findings if f.code == "norm_type" and f.severity != "error"}
    chain = d.arch.chain_layout(R)
    units = chain[0] if chain is not None else []
    in_unit = {nid for _, ids in units for nid in ids}
    for i, it in enumerate(R.spine):
        if isinstance(it, Block) or it.op == "input" or it.op in SKIPPABLE or it.id in in_unit:
            continue
        role = d.parts.stage[it.id]
        if role not in part:
            continue
        loc = names.loc(it)
        # a normalization left out where the assignment allows it counts, if
        # what it would normalize is there
        present = it.id in ctx.match or (it.op == "norm" and loc in allowed and i > 0
                                          and R.spine[i - 1].id in ctx.match)
        E.append(Element(part[role], loc, it.op, present))
    for rb in R.blocks:
        bloc, kind = names.bloc(rb), names.kind(rb)
        sb = ctx.block_match.get(rb.id)
        for role in ("layout", "config"):
            if role in part:
                E.append(Element(part[role], bloc, "block", sb is not None, block_kind=kind))
        if "module" in part:
            for r, rn in names.inner(rb):
                present = sb is not None and (rn is rb.concat or rn.id in ctx.match
                                              or (rn in rb.tail and bool(sb.tail)))
                E.append(Element(part["module"], names.loc(rn), r, present, bloc, role=r, block_kind=kind))
    for bloc, ids in units:
        # a plain chain's block: its layers (the blocks part), itself (configuration, layout)
        # present: the student has a layer of the same kind there (a tanh is no convolution)
        have = [nid in ctx.match and ctx.match[nid].op == R.graph.nodes[nid].op for nid in ids]
        for role in ("layout", "config"):
            if role in part:
                E.append(Element(part[role], bloc, "block", any(have)))
        if "module" in part:
            for nid, present in zip(ids, have):
                rn = R.graph.nodes[nid]
                E.append(Element(part["module"], names.loc(rn), rn.op, present, bloc))
    if "aux" in part:
        optional_absent = d.A.aux == "optional" and not ctx.S.aux
        for k, ra in enumerate(R.aux if d.A.aux != "forbidden" else []):
            for rn in ra.nodes:
                if rn.op not in SKIPPABLE:  # a Flatten before the fc is a matter of style
                    E.append(Element(part["aux"], names.loc(rn), rn.op, optional_absent or rn.id in ctx.match,
                                     names.aux_names[k]))
    if "params" in part:
        E.append(Element(part["params"], "total", "params", not ctx.S.graph.partial))
    if "returns" in part and ctx.count_ok is not None and d.A.task:
        # a block function that returns its new filter count, and returns the right one
        E.append(Element(part["returns"], "return", "returns", ctx.count_ok))
    ctx.elements = E
