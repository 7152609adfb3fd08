"""The spine, layer by layer: the input shape, each reference layer against the
student's in its place (different, missing, extra), and a network whose body
stops early (one root where it stops)."""

from __future__ import annotations

from ..align import Block
from .context import Context
from .messages import (M_EXTRA, M_EXTRA_BLOCKS, M_INPUT, M_MISSING, M_NORM, M_NORM_MISSING, M_STOPS)
from .rules import gap_on_expected_map, layer_desc, norm_name, op_name
from .text import summarise


def input_shape(ctx: Context):
    """The model's input against the assignment's."""
    d = ctx.d
    s_in = [n for n in ctx.S.graph.nodes.values() if n.op == "input"]
    if not s_in or not s_in[0].out_shape:
        return
    got = tuple(s_in[0].out_shape[1:])
    want = tuple(d.A.input_shape)
    if got != want:
        d.add("input_shape", "error", "data", M_INPUT, {}, list(want), list(got), node=s_in[0], order=0)


def compare_spine(ctx: Context):
    """Each reference item of the spine against the student's in its place: a
    layer's differences, a layer or block missing, one extra (the extras in a
    run of blocks are one mistake)."""
    d = ctx.d
    # an inception function without branches: the blocks it should have
    # built are missing, and what it built instead is extra, because of it
    no_branches = ctx.no_branches = next((f for k, f in ctx.fn_roots.items() if k[1] == "no_branches"), None)
    last_ref = None
    last_missing = None  # the finding of the reference item just before, if it is missing
    extra_run = None  # the finding of the extra block just before, if there is one
    order = 1
    reached = ctx.reached()
    for i, (r, s) in enumerate(ctx.pairs):
        order += 1
        if i >= reached:
            break
        if not (s is not None and r is None and isinstance(s, Block)):
            extra_run = None
        if r is not None and s is not None:
            last_missing = None
            if isinstance(r, Block):
                ctx.block_match[r.id] = s
                last_ref = r
                continue
            ctx.match[r.id] = s
            loc = ctx.d.names.loc(r)
            last_ref = r
            if r.op == "input":
                continue
            for code, sev, tmpl, args, exp, act in ctx.d.cmp(r, s, downstream=ctx.downstream(s)):
                if code == "norm_type" and sev == "norm":
                    sev = d.subs.get("none_for_lrn", "warning")
                f = d.add(code, sev, loc, tmpl, args, exp, act, node=s, order=order)
                if code == "layer_type" and gap_on_expected_map(r, s):
                    f.extra["follows_map"] = True  # see consequences.map_consequences
                if code == "activation" and s.a("activation") is None and r.a("activation") == "relu":
                    f.extra["relu_missing"] = True
        elif r is not None:
            loc = ctx.d.names.loc(r)
            if not isinstance(r, Block) and r.op == "act" and last_missing is not None:
                # an activation belongs to the layer before it: gone with it
                d.add("layer_missing", "error", loc, M_MISSING, {"layer": layer_desc(r)}, layer_desc(r), None,
                      source=ctx.near_source(last_ref), order=order, caused_by=last_missing)
                continue
            if not isinstance(r, Block) and r.op == "norm" and d.arch.norms_are_style:
                # the paper's LRN left out, or replaced by a BatchNorm the conv before it absorbed
                prev = ctx.match.get(ctx.prev_ref_id(r))
                if prev is not None and prev.a("post_norm"):
                    sub = norm_name(prev.a("post_norm"))
                    key = "batchnorm_for_lrn"
                    f = d.add("norm_type", d.subs.get(key, "warning"), loc, M_NORM, {}, "LRN", sub, node=prev, order=order)
                else:
                    f = d.add("norm_type", d.subs.get("none_for_lrn", "warning"), loc, M_NORM_MISSING, {}, "LRN", "none",
                              source=ctx.near_source(last_ref), order=order)
            else:
                what = ctx.d.arch.block_name(loc) if isinstance(r, Block) else layer_desc(r)
                f = d.add("layer_missing", "error", loc, M_MISSING, {"layer": what}, what, None,
                          source=ctx.near_source(last_ref), order=order,
                          caused_by=no_branches if isinstance(r, Block) else None)
            last_missing = f
            continue
        elif s is not None:
            if isinstance(s, Block) or s.op not in ("reshape",):
                if not isinstance(s, Block) and s.op == "norm" and s.a("norm") == "batchnorm":
                    continue  # BatchNorm anywhere is a style, not a fault
                loc = ctx.d.names.loc(last_ref) if last_ref is not None else "data"
                what = ctx.d.arch.block_word if isinstance(s, Block) else op_name(s)
                node = s.concat if isinstance(s, Block) else s
                sev = "error"
                if not isinstance(s, Block) and s.op == "act" and s.a("fn") == "relu":
                    sev = "info"
                by_fn = no_branches if no_branches is not None and node.source in ctx.fn_sources else None
                if extra_run is not None and by_fn is None:
                    # blocks one after another that the paper does not have: one mistake, counted
                    extra_run.args["count"] = extra_run.args.get("count", 1) + 1
                    extra_run.template = M_EXTRA_BLOCKS
                    d.add("layer_extra", sev, loc, M_EXTRA, {"layer": what}, None, what, node=node,
                          order=order + 0.5, caused_by=extra_run)
                    continue
                f = d.add("layer_extra", sev, loc, M_EXTRA, {"layer": what}, None, what, node=node,
                          order=order + 0.5, caused_by=by_fn)
                if isinstance(s, Block):
                    extra_run = f


def truncation(ctx: Context):
    """A complete network whose body ends early (a stem and a head, or the
    blocks up to 3b and then the head) is one fault: it stops at a place,
    and all that is missing after it follows from that."""
    d = ctx.d
    if ctx.S.graph.partial or not ctx.R.blocks:
        return
    last_block = max(i for i, it in enumerate(ctx.R.spine) if isinstance(it, Block))
    body = {id(it) for it in ctx.R.spine[: last_block + 1]}
    last_matched, run = None, []
    for r, s in ctx.pairs:
        if r is None or id(r) not in body:
            continue
        if s is not None:
            last_matched, run = r, []
        else:
            run.append(r)
    if last_matched is None or len(run) < 2 or not any(isinstance(r, Block) for r in run):
        return
    locs = [ctx.loc(r) for r in run]
    gone = set(locs) | {ctx.d.names.aux_names[k] for k, a in enumerate(ctx.R.aux)
                        if id(ctx.R.spine[a.attach]) in {id(r) for r in run}}
    at = [f for f in d.findings if f.location in gone and f.code in ("layer_missing", "norm_type", "aux_missing")]
    if any(f.caused_by is not None for f in at):
        return  # already explained (an inception function without branches)
    order = min((f.order for f in at), default=50)
    root = d.add("layer_missing", "error", locs[0], M_STOPS,
                 {"after": ctx.loc(last_matched), "missing": summarise(locs)}, summarise(locs), None,
                 source=ctx.near_source(last_matched), order=order - 0.01)
    for f in at:
        f.caused_by = root
