"""The auxiliary heads: each reference head against the student's hanging
nearest its place (missing, misplaced, its layers), extra heads, and a model
with more outputs than expected."""

from __future__ import annotations

from ..align import Block, align
from .context import Context
from .messages import M_AUX_EXTRA, M_AUX_MISSING, M_AUX_POS, M_EXTRA, M_MISSING, M_OUTPUTS
from .rules import layer_desc, op_name
from .text import shape_text


def aux_heads(ctx: Context):
    d = ctx.d
    mode = d.A.aux
    s_aux = ctx.S.aux
    r_aux = ctx.R.aux if mode != "forbidden" else []
    # where each student head hangs from, in reference terms
    s_to_r = {}
    for r, s in ctx.pairs:
        if s is not None and r is not None:
            s_to_r[id(s)] = r
    used = set()
    reached = {id(r) for r, s in ctx.pairs[: ctx.reached()] if r is not None}
    for k, ra in enumerate(r_aux):
        lname = ctx.d.names.aux_names[k]
        r_attach = ctx.R.spine[ra.attach]
        if id(r_attach) not in reached:
            continue
        # the student head hanging nearest the expected place
        best, best_c = None, None
        for j, sa in enumerate(s_aux):
            if j in used:
                continue
            c = abs(sa.attach - ctx.s_index_of(r_attach))
            if best_c is None or c < best_c:
                best, best_c = j, c
        if best is None:
            if mode == "required":
                d.add("aux_missing", "error", lname, M_AUX_MISSING, {}, ctx.d.names.loc(r_attach), None,
                      source=ctx.near_source(r_attach), order=60 + k)
            continue
        used.add(best)
        sa = s_aux[best]
        s_attach = ctx.S.spine[sa.attach]
        r_of = s_to_r.get(id(s_attach))
        exp_loc = ctx.d.names.loc(r_attach)
        act_loc = ctx.d.names.loc(r_of) if r_of is not None else "an unexpected layer"
        if r_of is not r_attach:
            # hanging from what a branchless inception function built instead of a block
            by_fn = ctx.no_branches if (ctx.no_branches is not None and not isinstance(s_attach, Block)
                                         and s_attach.source in ctx.fn_sources) else None
            # where a head hangs from is said where it is called, also of a Sequential head's layers
            d.add("aux_position", "error", lname, M_AUX_POS, {}, exp_loc, act_loc,
                  node=sa.nodes[0] if sa.nodes else None, source=sa.nodes[0].source if sa.nodes else None,
                  order=60 + k, caused_by=by_fn)
        pairs = align(ra.nodes, sa.nodes, ctx.d.node_cost, lambda x: 2.0, ctx.gap_stu)
        for rn, sn in pairs:
            if rn is not None and sn is not None:
                ctx.match[rn.id] = sn
                for code, sev, tmpl, a, exp, act in ctx.d.cmp(rn, sn):
                    if code == "strides":
                        a = {"detail": "the head's map changes size"}
                    if code == "padding":
                        a = {"detail": f"a {shape_text(sn.out_shape)} map"}
                    d.add(code, sev, ctx.d.names.loc(rn), tmpl, a, exp, act, node=sn, order=60 + k + 0.1)
            elif rn is not None:
                d.add("layer_missing", "error", ctx.d.names.loc(rn), M_MISSING, {"layer": layer_desc(rn)}, layer_desc(rn), None,
                      source=sa.nodes[-1].source if sa.nodes else None, order=60 + k + 0.1)
            elif sn is not None and sn.op not in ("reshape",):
                d.add("layer_extra", "error", lname, M_EXTRA, {"layer": op_name(sn)}, None, op_name(sn), node=sn, order=60 + k + 0.1)
    for j, sa in enumerate(s_aux):
        if j in used:
            continue
        sev = "error" if mode in ("required", "forbidden") else "warning"
        d.add("aux_extra", sev, d.arch.aux_name(j if mode != "forbidden" else 0), M_AUX_EXTRA, {}, None,
              "auxiliary classifier", node=sa.nodes[0] if sa.nodes else None,
              source=sa.nodes[0].source if sa.nodes else None, order=70)
    if ctx.S.extra_outputs:
        main = ctx.R.graph.nodes.get(ctx.R.main_output) if ctx.R.main_output else None
        d.add("output_count", "error", ctx.d.names.loc(main) if main is not None else "data", M_OUTPUTS, {}, 1 + len(r_aux),
              len(ctx.S.graph.outputs), order=80)
