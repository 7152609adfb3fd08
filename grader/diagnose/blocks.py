"""The blocks: each reference block against the student's in its place
(branches, layers, the merge, what follows it), one root per fault the block
function makes in every block, a block's own faults at the line that makes it
differ; blocks that are never merged, named groups of layers missing together;
and each block's row of the report."""

from __future__ import annotations

from ..align import Block, align, match_branches
from ..graph import Node
from ..report import BranchLayer
from ..report import Block as BlockRow
from .context import F, Context
from .messages import (M_ARGUMENT, M_BRANCH_MISSING, M_CALL_FILTERS, M_EXTRA, M_FILTERS, M_GROUP_MISSING, M_MERGE_MISSING, M_MISSING,
                       M_ORDER, M_SLIP_COLUMN, M_TYPO)
from .rules import is_typo, op_name
from .text import hashable, jsonable, shape_text


# A difference found in a block, before it is a finding (the architecture's
# block_faults reads and rewrites them): (block location, code, role, key that
# groups the same fault across blocks, args, expected, actual, student node,
# template, severity).


def compare_blocks(ctx: Context):
    """Every matched block against its reference block; each difference becomes
    a consequence of a function-level root from the probe, one root for the
    block function when every block of its kind has it, or the block's own."""
    names = ctx.d.names
    matched = [(rb, ctx.block_match[rb.id]) for rb in ctx.R.blocks if rb.id in ctx.block_match]
    ctx.loc_of_role = {(names.bloc(rb), r): names.loc(n) for rb in ctx.R.blocks for r, n in names.inner(rb)}
    ctx.branch_len = {(names.bloc(rb), r): len(br) for rb in ctx.R.blocks for br in names.roles(rb) for r, _ in br}
    cands = []
    for rb, sb in matched:
        cands += _block_differences(ctx, rb, sb)
    n_blocks: dict = {}
    for rb, _ in matched:
        n_blocks[names.kind(rb)] = n_blocks.get(names.kind(rb), 0) + 1
    groups: dict = {}
    for c in cands:
        groups.setdefault((names.kind(names.block_of(c[0])), c[1], c[2], hashable(c[3])), []).append(c)
    handled = _function_roots(ctx, groups, n_blocks)
    _own_faults(ctx, [c for key, items in groups.items() if key not in handled for c in items])


def _block_differences(ctx: Context, rb: Block, sb: Block) -> list:
    """The differences of one student block from its reference block (and its row of the report)."""
    d, names = ctx.d, ctx.d.names
    bloc = names.bloc(rb)
    rroles = names.roles(rb)
    mrole = names.merge_role(rb)
    cands = []

    def cost(ri, si):
        if si is None:
            return 5.0
        pairs = align([n for _, n in rroles[ri]], sb.branches[si], ctx.d.node_cost, lambda x: 2.0,
                      lambda x: 1.0 if x.op in ("act", "norm") else 2.0)
        return sum(ctx.d.node_cost(a, b) if a is not None and b is not None else 2.0 for a, b in pairs)

    assign = match_branches(rroles, sb.branches, cost)
    ctx.block_rows.append(block_row(ctx, bloc, rb, sb, assign, rroles))
    rfilters = ctx.d.columns(rb)
    for ri, si in enumerate(assign):
        rbr = rroles[ri]
        if si is None:
            if rbr:
                cands.append((bloc, "branch_missing", rbr[-1][0], None, dict(layer=rbr[-1][0]), rbr[-1][0], None, sb.concat, M_BRANCH_MISSING, "error"))
            continue
        pairs = align([n for _, n in rbr], sb.branches[si], ctx.d.node_cost, lambda x: 2.0,
                      lambda x: 1.0 if x.op in ("act", "norm") else 2.0)
        cands += _layer_differences(ctx, bloc, rbr, pairs, rfilters, rbr[-1][0] if rbr else mrole, sb.concat)
    # what comes after the merge (a residual block's activation)
    if rb.tail or sb.tail:
        tail_roles = [(names.role(n, rb), n) for n in rb.tail]
        pairs = align(list(rb.tail), list(sb.tail), ctx.d.node_cost, lambda x: 2.0, lambda x: 2.0)
        cands += _layer_differences(ctx, bloc, tail_roles, pairs, rfilters, mrole, sb.concat)
    perm = list(assign)
    if None not in perm and perm != sorted(perm) and rb.concat.op == "concat":  # an addition has no order
        named = {si: rroles[ri][-1][0] for ri, si in enumerate(assign) if rroles[ri]}
        actual = ", ".join(named[i] for i in range(len(sb.branches)) if i in named)
        cands.append((bloc, "branch_order", mrole, actual, {}, ", ".join(r[-1][0] for r in rroles if r), actual,
                      sb.concat, M_ORDER, d.subs.get("concat_order", "info")))
    for code, sev, tmpl, a, exp, act in ctx.d.cmp(rb.concat, sb.concat):
        cands.append((bloc, code, mrole, act, a, exp, act, sb.concat, tmpl, sev))
    return d.arch.block_faults(names.kind(rb), bloc, cands, sb)


def _function_roots(ctx: Context, groups: dict, n_blocks: dict) -> set:
    """The groups of differences the block function explains: by a root found by
    its probe, or by one new root when every block of its kind has the same
    fault. Returns the keys of the groups explained."""
    d = ctx.d
    handled = set()
    # explained by a function-level root from the probe
    for key, items in groups.items():
        kind, code, role, _ = key
        root = ctx.fn_roots.get((kind, code, role))
        if root is None:
            continue
        for c in items:
            consequence_of(ctx, root, c)
        handled.add(key)
    # the same fault in every block of a kind: one root for the function
    for key, items in groups.items():
        if key in handled:
            continue
        kind, code, role, k = key
        blocks_hit = {c[0] for c in items}
        # (a block-function task grades the function: its one block is all its calls)
        if (n_blocks.get(kind, 0) >= 2 or (d.A.task and n_blocks.get(kind))) and len(blocks_hit) == n_blocks[kind]:
            first = items[0]
            loc = f"{kind}/{role}"
            if code == "filters" and isinstance(k, tuple) and k[0] == "column":
                root = d.add("argument_misuse", "error", loc, M_ARGUMENT, {"layer": role},
                             d.arch.column_title(role), d.arch.column_title(k[1]), node=first[7], order=90)
            else:
                root = d.add(code, first[9], loc, first[8], dict(first[4]), first[5], first[6], node=first[7], order=90)
            for c in items:
                consequence_of(ctx, root, c)
            handled.add(key)
    return handled


def _own_faults(ctx: Context, rest: list):
    """The rest: faults of one block, shown at the line that makes this block
    differ from the others (the call of the inception function for 4d); the same
    wrong filter count given to several layers (a stage's filters in a table, the
    shortcut's count that is the last 1x1's) is one mistake, at its first place."""
    d, names = ctx.d, ctx.d.names
    # in network order, and in a block its main path before its shortcut
    rest.sort(key=lambda c: (ctx.block_order(c[0]), -ctx.branch_len.get((c[0], c[2]), 0)))
    given: dict = {}
    srcs = [_source_in_block(ctx, c) for c in rest]
    # the wrong filter counts of one block given at one call (filters=(256, 256, 1024) for conv5)
    at_call: dict = {}
    if d.arch.filters_given_together:
        for c, src in zip(rest, srcs):
            if c[1] == "filters" and src is not None and not (isinstance(c[3], tuple) and c[3][0] == "column"):
                at_call.setdefault((c[0], src), set()).add(c[2])
    call_roots: dict = {}
    for c, src in zip(rest, srcs):
        bloc, code, role, k, a, exp, act, sn, tmpl, sev = c
        # one wrong value given to several layers: filters anywhere, a stride in one block
        same = (code, hashable(exp), hashable(act)) + (() if code == "filters" else (bloc,))
        if code in ("filters", "strides") and same in given:
            consequence_of(ctx, given[same], c)
            continue
        if code == "filters" and len(at_call.get((bloc, src), ())) >= 2:
            root = call_roots.get((bloc, src))
            if root is None:
                root = call_roots[(bloc, src)] = _call_filters_root(ctx, bloc, sn, src)
            consequence_of(ctx, root, c)
            given[same] = root
            continue
        args = dict(a)
        if code == "filters" and isinstance(k, tuple) and k[0] == "column":
            tmpl = M_SLIP_COLUMN
            args.update(column=d.arch.column_title(k[1]), layer=role)
        elif code == "filters" and is_typo(act, exp):
            tmpl = M_TYPO
        f = d.add(code, sev, ctx.block_loc(bloc, role), tmpl, args, exp, act, node=sn, source=src,
                  order=ctx.block_order(bloc))
        if code in ("filters", "strides"):
            given[same] = f


def _source_in_block(ctx: Context, c):
    """The line a block's fault is shown at: where this block differs from the others of its kind."""
    names = ctx.d.names
    bloc, role, sn = c[0], c[2], c[7]
    kind = names.kind(names.block_of(bloc))
    return distinguishing_frame(sn, [ctx.match.get(rn.id) for rb2 in ctx.R.blocks if names.kind(rb2) == kind
                                     for r2, rn in names.inner(rb2) if r2 == role])


def _call_filters_root(ctx: Context, bloc: str, sn, src):
    """One root for a block's filter counts given wrong at one call, listing them all."""
    d = ctx.d
    rb = d.names.block_of(bloc)
    sb = ctx.block_match.get(rb.id) if rb is not None else None
    want = d.columns(rb) if rb is not None else {}
    got = d.columns(sb) if sb is not None else {}
    cols = [c for c in want if c != "0_conv"] or list(want)
    exp = "(" + ", ".join(str(want[c]) for c in cols) + ")"
    act = "(" + ", ".join(str(got.get(c, "?")) for c in cols) + ")"
    return d.add("filters", "error", bloc, M_CALL_FILTERS, {}, exp, act, node=sn, source=src,
                 order=ctx.block_order(bloc))


def _layer_differences(ctx: Context, bloc, rbr, pairs, rfilters, extra_role, anchor) -> list:
    """Differences between the layers of one reference branch and the student's."""
    out = []
    role_of = {id(n): ro for ro, n in rbr}
    style_norms = ctx.d.arch.norms_are_style
    for rn, sn in pairs:
        if rn is None:
            if sn is not None and not (style_norms and sn.op == "norm" and sn.a("norm") == "batchnorm"):
                out.append((bloc, "layer_extra", extra_role, op_name(sn), dict(layer=op_name(sn)), None, op_name(sn), sn, M_EXTRA, "error"))
            continue
        role = role_of[id(rn)]
        if sn is None:
            out.append((bloc, "layer_missing", role, None, dict(layer=role), role, None, anchor, M_MISSING, "error"))
            continue
        ctx.match[rn.id] = sn
        for code, sev, tmpl, a, exp, act in ctx.d.cmp(rn, sn):
            if a.get("at"):
                at, role_here, a = ctx.folded(bloc, role, a)
                ctx.loc_of_role[(bloc, role_here)] = at
                out.append((bloc, code, role_here, act, a, exp, act, sn, tmpl, sev))
                continue
            key = act
            if code == "filters":
                cols = [c for c in rfilters if rfilters[c] == act and c != role]
                key = ("column", cols[0]) if cols else ("value", act)
            if code == "padding":
                a = {"detail": f"a {shape_text(sn.out_shape)} map"}
            if code == "strides" and not a.get("detail"):
                a = {"detail": "the block's output map and every later one change size"}
            out.append((bloc, code, role, key, a, exp, act, sn, tmpl, sev))
    return out


def consequence_of(ctx: Context, root: F, c):
    bloc, code, role, k, a, exp, act, sn, tmpl, sev = c
    args = dict(a)
    if code == "filters" and isinstance(k, tuple) and k[0] == "column":
        tmpl = M_FILTERS
    ctx.d.add(code, sev, ctx.block_loc(bloc, role), tmpl, args, exp, act, node=sn, caused_by=root,
              order=ctx.block_order(bloc))


def block_row(ctx: Context, loc, rb: Block, sb: Block, assign, rroles, args=None):
    exp = ctx.d.columns(rb)
    act = ctx.d.columns(sb)
    if args is not None:  # a probe: the counts its arguments ask for, by role
        exp = dict(args[1])
    branches = []
    missing = False  # a branch of the reference with none of the student's for it (an identity shortcut is empty, not missing)
    for ri, si in enumerate(assign):
        if si is None:
            branches.append([])
            missing = True
            continue
        layers = []
        rbr = rroles[ri]
        pairs = align([n for _, n in rbr], sb.branches[si], ctx.d.node_cost, lambda x: 2.0, lambda x: 2.0)
        role_of = {id(n): ro for ro, n in rbr}
        for rn, sn in pairs:
            if sn is None:
                continue
            role = role_of.get(id(rn), "extra") if rn is not None else "extra"
            ok = rn is not None and not ctx.d.cmp(rn, sn)
            if args is not None and sn.op == "conv" and rn is not None:
                ok = ok or all(c[0] == "filters" for c in ctx.d.cmp(rn, sn))
                ok = ok and sn.a("filters") == exp.get(role)
            layers.append(BranchLayer(
                location=ctx.block_loc(loc, role), type=sn.op, kernel=jsonable(sn.a("kernel") or sn.a("pool_size")),
                filters=sn.a("filters"), activation=sn.a("activation"), pool_type=sn.a("pool_type"),
                argument=(args[0].get(sn.a("filters")) if args is not None and sn.op == "conv" else None), ok=bool(ok)))
        branches.append(layers)
    ok = all(l.ok for br in branches for l in br) and not missing
    if args is not None:
        exp = ctx.d.arch.probe_columns(loc, exp)
    return BlockRow(location=loc, expected=exp, actual=act, output_shape=jsonable(sb.out_shape),
                    expected_output_shape=jsonable(rb.out_shape), params=sb.params(), expected_params=rb.params(),
                    branches=branches, ok=ok)


def merge_missing(ctx: Context):
    """None of the blocks of a kind is there, and their layers are: the student
    never merged (a DenseNet without its concatenations, a ResNet without its
    additions). One root at the block function's merge; every block missing and
    every layer standing in a plain chain instead follows from it."""
    d, names = ctx.d, ctx.d.names
    for kind in dict.fromkeys(names.kind(b) for b in ctx.R.blocks):
        of_kind = [b for b in ctx.R.blocks if names.kind(b) == kind]
        if len(of_kind) < 2 or any(b.id in ctx.block_match for b in of_kind):
            continue
        locs = {names.bloc(b) for b in of_kind}
        missing = [f for f in d.findings if f.caused_by is None and f.code == "layer_missing" and f.location in locs]
        extra = [f for f in d.findings if f.caused_by is None and f.code == "layer_extra" and f.node is not None
                 and f.node.op in ("conv", "norm", "act")]
        extra_layers = sum(1 + sum(1 for g in d.findings if g.caused_by is f) for f in extra)
        if len(missing) < len(of_kind) or extra_layers < len(of_kind):
            continue
        rb = of_kind[0]
        merge = "Concatenate" if rb.concat.op == "concat" else "Add"
        root = d.add("layer_missing", "error", f"{kind}/{names.merge_role(rb)}", M_MERGE_MISSING,
                     {"layer": d.arch.block_word, "merge": merge}, merge, None,
                     node=extra[0].node if extra else None, order=min(f.order for f in missing) - 0.01)
        for f in missing + extra:
            f.caused_by = root


def missing_groups(ctx: Context):
    """Three or more layers missing together that make one named piece of the
    network (a transition's pool3_bn, pool3_relu, pool3_conv, pool3_pool) are that
    piece missing: one root at its name (pool3)."""
    d, names = ctx.d, ctx.d.names
    spine = [it for it in ctx.R.spine if not isinstance(it, Block) and it.op != "input"]
    groups: dict = {}
    for it in spine:
        loc = names.loc(it)
        cut = max(loc.rfind("/"), loc.rfind("_"))
        if cut > 0:
            groups.setdefault(loc[:cut], []).append(loc)
    missing = {f.location: f for f in d.findings if f.code in ("layer_missing", "norm_type") and f.actual in (None, "none")}
    for prefix, locs in groups.items():
        if len(locs) < 3 or not all(l in missing for l in locs) or not any(missing[l].caused_by is None for l in locs):
            continue
        if any(missing[l].caused_by is not None and missing[l].caused_by.location not in locs for l in locs):
            continue  # already explained by something else
        first = missing[locs[0]]
        root = d.add("layer_missing", "error", prefix, M_GROUP_MISSING, {"layers": ", ".join(locs)},
                     ", ".join(locs), None, source=first.source, order=first.order - 0.01)
        for l in locs:
            missing[l].caused_by = root


def distinguishing_frame(node: Node, peers: list):
    """The innermost of the student's frames at which ``node`` differs from the
    same layer of the other blocks: the call site of a shared function, else the
    layer's own line."""
    if node is None:
        return None
    stacks = [p.stack for p in peers if p is not None and p is not node and p.stack]
    for depth, frame in enumerate(node.stack):
        if stacks and all(len(st) > depth and st[depth] != frame for st in stacks):
            return frame
    return node.source
