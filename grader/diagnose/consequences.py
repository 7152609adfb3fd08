"""Roots and their consequences: the same mistake made by one line of code
that ran several times is one root; a filter count that follows its rule on
the input it has follows from what changed that input; an output shape that
differs follows from the first fault upstream that changes shapes."""

from __future__ import annotations

from ..align import Block
from .context import Context
from .messages import M_DERIVED, M_IN_FUNCTION, M_IN_LOOP, M_SHAPE
from .rules import SHAPE_CODES, dense_on_map_ok
from .text import first_few, hashable, shape_text


def helper_roots(ctx: Context):
    """The same mistake made by one line of code that ran several times (a
    helper called for both auxiliary heads, a conv_bn helper, a loop) is
    one root, at its first place, with a consequence at each other place."""
    d = ctx.d
    data = ("filters", "units")  # values passed in by the caller: each is its own mistake
    groups: dict = {}
    for f in d.findings:
        if (f.caused_by is None and f.severity in ("error", "warning") and f.code != "norm_type"
                and f.node is not None and f.node.source is not None
                and f.code in SHAPE_CODES | {"activation", "dropout_rate", "pool_type"} and f.code not in data
                and f.code not in ("layer_missing", "aux_missing", "output_count", "input_shape")):
            # a layer's settings are written where it is created (a factory
            # like `Conv(f, k)` returns it to be called elsewhere)
            made = f.node.ctor or f.node.source
            groups.setdefault((f.code, hashable(f.expected), hashable(f.actual), made), []).append(f)
        elif (f.caused_by is None and f.severity == "error" and f.code in data and f.node is not None
              and isinstance(f.expected, int) and isinstance(f.actual, int) and f.expected > 0
              and not ctx.d.names.is_function_loc(f.location)):
            # counts a helper computes from its arguments (a transition's theta * m),
            # wrong by the same factor wherever it is called: its arithmetic
            made = f.node.ctor or f.node.source
            groups.setdefault((f.code, "ratio", round(f.actual / f.expected, 6), made), []).append(f)
    for (code, _e, _a, src), fs in groups.items():
        if len(fs) < 2:
            continue
        fs.sort(key=lambda f: f.order)
        root, rest = fs[0], fs[1:]
        merged = {id(f) for f in rest}
        for f in d.findings:
            if f.caused_by is not None and id(f.caused_by) in merged:
                f.caused_by = root
        for f in rest:
            f.caused_by = root
        fn = ctx.d.function_of(src) if ctx.d.function_of else None
        # the network's layers it made wrong: the places merged here, and the
        # blocks' layers of a merged fault of the inception function
        places = [f.location for f in d.findings if f.code == code and (f is root or f.caused_by is root)
                  and not ctx.d.names.is_function_loc(f.location)]
        root.source = src  # where the fix goes
        if not places:  # the same fault of one block function, found for two of its block kinds
            continue
        args = dict(root.args)
        args.update(fault=root.message, fault_template=root.template, function=fn or "", line=src[1],
                    count=len(places), locations=first_few(places, 6))
        root.template = M_IN_FUNCTION if fn else M_IN_LOOP
        root.args = args


def derived(ctx: Context):
    """A layer whose filters follow from its input's channels (a transition's
    theta * m) and follows the rule on the input it has is right: a different
    count there comes from the fault that changed the channels before it."""
    d = ctx.d
    own: dict = {}
    for f in sorted(d.findings, key=lambda f: f.order):
        if f.caused_by is not None or f.code != "filters" or f.node is None:
            continue
        ref = next((r for r, s in ctx.pairs if s is f.node and r is not None and not isinstance(r, Block)), None)
        derived = d.arch.derived_filters(ref, d.A) if ref is not None else None
        ch = f.node.in_shape[-1] if f.node.in_shape else None
        if derived is None or not ch:
            continue
        rule, words = derived
        if f.node.a("filters") == rule(ch):
            f.caused_by = ctx.shape_cause(f.location) or ctx.count_root
        else:
            # the rule itself is wrong (theta = 1 for 0.5): the same ratio wherever
            # the line that computes it runs is one mistake, at its first place
            key = (round(f.node.a("filters") / ch, 3), f.node.ctor or f.node.source)
            first = own.setdefault(key, f)
            if first is not f:
                f.caused_by = first
            else:
                f.template = M_DERIVED
                f.args.update(channels=ch, rule=words, given=rule(ch))


def map_consequences(ctx: Context):
    """A layer that differs from the paper's only because the map it gets is not
    the paper's (the head's 7x7 average pool over a 14x14 map after a stride
    of 1 upstream, or a transition left out) follows from what changed the map,
    wherever it lands; with nothing upstream to blame it stays a root."""
    for f in ctx.d.findings:
        if f.caused_by is None and f.extra.get("follows_map"):
            cause = ctx.shape_cause(f.location, besides=f)
            if cause is not None and ctx.position(cause.location) < ctx.position(f.location):
                f.caused_by = cause


def consequences(ctx: Context):
    d = ctx.d
    map_consequences(ctx)
    ordered = []
    for r, s in ctx.pairs:
        if r is None or s is None:
            continue
        rn = r.concat if isinstance(r, Block) else r
        sn = s.concat if isinstance(s, Block) else s
        loc = ctx.d.names.loc(r)
        ordered.append((loc, rn, sn))
    for ra in ctx.R.aux:
        for rn in ra.nodes:
            if rn.id in ctx.match:
                ordered.append((ctx.d.names.loc(rn), rn, ctx.match[rn.id]))
    for loc, rn, sn in ordered:
        if rn.out_shape is None or sn.out_shape is None:
            continue
        exp, act = tuple(rn.out_shape), tuple(sn.out_shape)
        if exp == act or dense_on_map_ok(d.A, rn, sn):
            continue
        if any(f.location == loc and f.caused_by is None for f in d.findings):
            continue
        cause = ctx.shape_cause(loc)
        d.add("output_shape", "error", loc, M_SHAPE, {}, shape_text(exp), shape_text(act), node=sn, caused_by=cause,
              order=ctx.order_of(loc) + 0.01)
