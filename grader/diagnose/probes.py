"""The block functions, each called alone by the child (the probes): the roots
of the function itself (a branch, a layer, an argument misused or unused, the
branches' order), the filter count a block function returns, and the counts
computed from a wrong one afterwards."""

from __future__ import annotations

from ..align import Block, align, match_branches, structure
from ..graph import Graph
from . import blocks
from .context import Context
from .messages import (M_ARG_HARDCODED, M_ARGUMENT, M_BRANCH_EXTRA, M_BRANCH_MISSING, M_FILTERS, M_MISSING,
                       M_NO_BRANCHES, M_ORDER, M_RETURNED, M_UNUSED)
from .rules import layer_desc, op_name


def returned_count(ctx: Context, kind, returned, args, location, probe, source=None):
    """A block function that returns its new filter count must return the right one."""
    d = ctx.d
    # a count is computed from numbers only (a solution's probe may pass flags and names too)
    numbers = args is not None and all(isinstance(a, (int, float)) and not isinstance(a, bool) or isinstance(a, list)
                                       for a in args)
    want = d.arch.expected_count(kind, args) if kind and numbers else None
    if want is None:
        return
    got = next(iter(returned or []), None)
    ctx.count_ok = got == want
    if got != want:
        ctx.count_root = d.add("return_value", "error", location, M_RETURNED, {"function": kind}, want,
                               "nothing" if got is None else got, source=source, order=100 if probe else 99)


def run_probes(ctx: Context):
    """Each probe's returned count and function-level roots, then the task's own
    returned count; the roots are what the spine and block passes explain
    their faults by."""
    task = ctx.d.A.task
    for probe, pg in ctx.inputs.probes:
        if not (task and task.get("kind") == probe.get("block_kind")):  # a task counts its own call
            last = next((n for n in reversed(list(pg.nodes.values())) if n.source), None) if pg is not None else None
            returned_count(ctx, probe.get("block_kind"), probe.get("returned"), probe.get("call_args"),
                           f"{probe.get('block_kind')}/return", probe, last.source if last else None)
        row = ctx.probe_row
        ctx.fn_roots.update(probe_roots(ctx, probe, pg))
        ctx.probe_row = row or ctx.probe_row  # the report shows the first
    if task:
        returned_count(ctx, task.get("kind"), ctx.inputs.returned, task.get("args"), f"{task.get('kind')}/return", None,
                       ctx.inputs.returned_source)


def probe_roots(ctx: Context, probe, pg: Graph | None) -> dict:
    """Function-level roots from the probe: {(kind, code, role): F}."""
    d = ctx.d
    roots: dict = {}
    if not probe or pg is None or not ctx.R.blocks:
        return roots
    args = probe.get("arguments") or {}
    val_to_arg = d.arch.named_values(probe)
    kind = probe.get("block_kind") or (d.arch.function_kinds or ("block",))[0]
    at = ctx.d.names.first_of_kind(kind)
    if at is None:
        return roots
    rb = ctx.R.spine[at]
    mrole = ctx.d.names.merge_role(rb)
    # read as the network's blocks are (a shortcut that leaves from inside the block)
    ps = d.arch.adjust_structure(structure(pg, d.arch.merge_ops))
    if not d.arch.accepts_probe(probe, ps.blocks):
        return roots
    # the lines of every block function probed (ResNet has two: the identity
    # block's chain must be known after the projection block is probed)
    ctx.fn_sources |= {n.source for n in pg.nodes.values() if n.source is not None}
    if not ps.blocks:
        built = [n for n in pg.nodes.values() if n.op not in ("input", "pass")]
        if built and not probe.get("error"):
            desc = ("a single " + layer_desc(built[0])) if len(built) == 1 else " -> ".join(layer_desc(n) for n in built[:5])
            f = d.add(d.arch.no_merge_code, "error", f"{kind}/{mrole}", d.arch.message("no_branches", M_NO_BRANCHES),
                      {"kind": kind}, f"{len(rb.branches)} branches", desc, node=built[0], order=100)
            roots[(kind, "no_branches", "output")] = f
        return roots
    pb = ps.blocks[-1]
    rb = probe_reference(ctx, kind, pb) or rb
    rroles = ctx.d.names.roles(rb)
    expected_value = d.arch.probe_expectations(probe)
    assign = _assign_branches(ctx, rroles, pb, expected_value)
    order = _branch_roots(ctx, probe, kind, rb, pb, assign, rroles, (val_to_arg, expected_value), roots)
    _merge_roots(ctx, kind, rb, pb, assign, rroles, roots, order)
    # arguments never used
    used = {n.a("filters") for n in pg.nodes.values() if n.op in ("conv", "dense")}
    role_of_arg = {d.arch.argument_of(r, probe): r for r in expected_value}
    for a, v in args.items():
        if v not in used and a in role_of_arg:
            role = role_of_arg[a]
            cause = roots.get((kind, "filters", role))
            if cause is None:
                cause = next((f for (_, c, r), f in roots.items() if c == "filters"), None)
            d.add("argument_unused", "warning" if cause is None else "error", f"{kind}/{role}", M_UNUSED,
                  {"argument": a}, a, None, source=pb.concat.source, caused_by=cause, order=order)
    ctx.probe_row = blocks.block_row(ctx, kind, rb, pb, assign, rroles, args=(val_to_arg, expected_value))
    return roots


def _assign_branches(ctx: Context, rroles: list, pb: Block, expected_value: dict) -> list:
    """Which of the probe's branches stands for each reference branch: by layer
    types, then the filter counts the arguments should give, then kernels."""
    def cost(ri, si):
        if si is None:
            return 5.0
        rbr = rroles[ri]
        sbr = pb.branches[si]
        c = 0.0
        pairs = align([n for _, n in rbr], sbr, ctx.d.node_cost, lambda x: 2.0, lambda x: 2.0)
        for rn, sn in pairs:
            if rn is None or sn is None:
                c += 2.0
                continue
            if rn.op != sn.op:
                c += 3.0
                continue
            if rn.op == "conv":
                role = dict((id(n), ro) for ro, n in rbr)[id(rn)]
                if sn.a("filters") != expected_value.get(role):
                    c += 0.4
                if sn.a("kernel") != rn.a("kernel"):
                    c += 0.6
        return c

    return match_branches(rroles, pb.branches, cost)


def _branch_roots(ctx: Context, probe, kind, rb: Block, pb: Block, assign, rroles, values, roots) -> int:
    """The roots of each branch of the probe (missing, its layers' faults, a filter
    count taken from the wrong argument or none); the order of the next finding.
    ``values``: (value -> the argument that has it, role -> the count it should have)."""
    d = ctx.d
    val_to_arg, expected_value = values
    order_base = 100
    for ri, si in enumerate(assign):
        rbr = rroles[ri]
        if si is None:
            f = d.add("branch_missing", "error", f"{kind}/{rbr[-1][0]}", M_BRANCH_MISSING,
                      {"layer": rbr[-1][0]}, rbr[-1][0], None, source=pb.concat.source, order=order_base)
            roots[(kind, "branch_missing", rbr[-1][0])] = f
            continue
        sbr = pb.branches[si]
        pairs = align([n for _, n in rbr], sbr, ctx.d.node_cost, lambda x: 2.0, lambda x: 1.0 if x.op in ("act", "norm") else 2.0)
        role_of = {id(n): ro for ro, n in rbr}
        for rn, sn in pairs:
            if rn is None:
                continue
            role = role_of[id(rn)]
            loc = f"{kind}/{role}"
            if sn is None:
                f = d.add("layer_missing", "error", loc, M_MISSING, {"layer": role}, role, None,
                          source=pb.concat.source, order=order_base)
                roots[(kind, "layer_missing", role)] = f
                continue
            diffs = [c for c in ctx.d.cmp(rn, sn) if c[0] != "filters"]
            if rn.op == "conv" and sn.op == "conv" and role in expected_value and sn.a("filters") != expected_value[role]:
                diffs.append(("filters", "error", M_FILTERS, {}, expected_value[role], sn.a("filters")))
            for code, sev, tmpl, a, exp, act in diffs:
                if code == "filters":
                    want = d.arch.argument_of(role, probe)
                    got = val_to_arg.get(act)
                    # where the count is written: a block function's own line (where it passes the
                    # count to a helper), a Layer class's constructor line (its __init__ builds the layer)
                    line = (sn.ctor or sn.source) if probe.get("kind") == "layer" else (sn.stack[-1] if sn.stack else None)
                    if want is None and got is None and role in expected_value:
                        # a count that is no argument's (an instructor's solution computes it): a wrong count
                        f = d.add("filters", "error", loc, M_FILTERS, {}, expected_value[role], act,
                                  node=sn, source=line, order=order_base)
                        roots[(kind, "filters", role)] = f
                        continue
                    if got == want:
                        continue
                    if got is None:
                        if act == probe.get("input_channels"):
                            got = "the input's channel count"
                        f = d.add("argument_misuse", "error", loc, M_ARG_HARDCODED, {"layer": role}, want,
                                  act if got is None else got, node=sn, source=line, order=order_base)
                    else:
                        f = d.add("argument_misuse", "error", loc, M_ARGUMENT, {"layer": role}, want, got,
                                  node=sn, source=line, order=order_base)
                    roots[(kind, "filters", role)] = f
                    continue
                if code == "padding":
                    a = {"detail": "a smaller map than the other branches"}
                if code == "strides":
                    a = {"detail": "the branch's map no longer matches the others"}
                at_role = role
                if a.get("at"):
                    _, at_role, a = ctx.folded(ctx.d.names.bloc(rb), role, a)
                f = d.add(code, sev, f"{kind}/{at_role}", tmpl, a, exp, act, node=sn, order=order_base)
                roots[(kind, code, at_role)] = f
        order_base += 1
    return order_base


def _merge_roots(ctx: Context, kind, rb: Block, pb: Block, assign, rroles, roots, order_base):
    """The roots at the probe's merge: the branches' order in the concatenation,
    the merge itself, and branches the paper does not have."""
    d = ctx.d
    mrole = ctx.d.names.merge_role(rb)
    perm = [si for si in assign]
    if None not in perm and perm != sorted(perm) and rb.concat.op == "concat":
        names = {si: rroles[ri][-1][0] for ri, si in enumerate(assign)}
        actual = [names[i] for i in range(len(pb.branches)) if i in names]
        f = d.add("branch_order", d.subs.get("concat_order", "info"), f"{kind}/{mrole}", M_ORDER, {},
                  ", ".join(r[-1][0] for r in rroles), ", ".join(actual), node=pb.concat, order=order_base)
        roots[(kind, "branch_order", mrole)] = f
    for code, sev, tmpl, a, exp, act in ctx.d.cmp(rb.concat, pb.concat):
        f = d.add(code, sev, f"{kind}/{mrole}", tmpl, a, exp, act, node=pb.concat, order=order_base)
        roots[(kind, code, mrole)] = f
    # what the architecture reads off the block as a whole (a shortcut taken from
    # inside it, a dense block's output without its input): the same faults as
    # the network's blocks get, so theirs follow from these
    for _b, code, role, _k, a, exp, act, sn, tmpl, sev in d.arch.block_faults(kind, kind, [], pb):
        f = d.add(code, sev, f"{kind}/{role}", tmpl, a, exp, act, node=sn, order=order_base)
        roots[(kind, code, role)] = f
    for extra in [pb.branches[i] for i in range(len(pb.branches)) if i not in assign]:
        f = d.add("branch_extra", "error", f"{kind}/{mrole}", M_BRANCH_EXTRA, {}, None,
                  " -> ".join(op_name(n) for n in extra), node=extra[0] if extra else pb.concat, order=order_base)
        roots[(kind, "branch_extra", mrole)] = f


def probe_reference(ctx: Context, kind: str, pb: Block):
    """The reference block of ``kind`` the probe is most like apart from filter
    counts (a projection block called with stride 2 is conv3_block1, not conv2_block1)."""
    names = ctx.d.names
    best, best_cost = None, None
    for rb in ctx.R.blocks:
        if names.kind(rb) != kind:
            continue
        def pairs(ri, si):
            return align(rb.branches[ri], pb.branches[si], ctx.d.node_cost, lambda x: 2.0, lambda x: 2.0)

        def cost(ri, si):
            if si is None:
                return 2.0 * max(1, len(rb.branches[ri]))
            return sum(len([c for c in ctx.d.cmp(r, s) if c[0] != "filters"]) if r is not None and s is not None
                       else 1 for r, s in pairs(ri, si))

        assign = match_branches(rb.branches, pb.branches, cost)
        cost = sum(cost(ri, si) for ri, si in enumerate(assign))
        if best_cost is None or cost < best_cost:
            best, best_cost = rb, cost
    return best


def counted_from(ctx: Context):
    """A block function that returns a wrong filter count makes every filter
    count computed from it afterwards wrong (a transition's θm): consequences."""
    root = ctx.count_root
    if root is None or not root.location.endswith("/return"):
        return
    start = ctx.d.names.first_of_kind(root.location.split("/", 1)[0])
    if start is None:
        return
    for f in ctx.d.findings:
        if f.caused_by is None and f.code == "filters" and f is not root and ctx.position(f.location) > start:
            f.caused_by = root


def returned_follows(ctx: Context):
    """A block function that returns the filter count of the convolution it
    built (a transition returning its 1x1's count) returns a wrong count because
    that convolution's count is wrong: the returned count is that root's
    consequence, never a second root."""
    d = ctx.d
    task = d.A.task
    for r in [f for f in d.findings if f.code == "return_value" and f.caused_by is None]:
        kind = r.location.split("/", 1)[0]
        if not isinstance(r.actual, int):
            continue
        if task and task.get("kind") == kind:
            graphs = [ctx.S.graph]
        else:
            graphs = [pg for probe, pg in ctx.inputs.probes if pg is not None and probe.get("block_kind") == kind]
        lines = {n.ctor or n.source for g in graphs for n in g.nodes.values()
                 if n.op == "conv" and n.a("filters") == r.actual and (n.ctor or n.source)}
        causes = [f for f in d.findings if f.caused_by is None and f is not r and f.code in ("filters", "argument_misuse")
                  and f.node is not None and (f.node.ctor or f.node.source) in lines]
        if causes:
            r.caused_by = min(causes, key=lambda f: f.order)
