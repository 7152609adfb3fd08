"""The parameter total against the reference's, allowing what the assignment's
substitutions add, and the biases a BatchNormalization makes redundant."""

from __future__ import annotations

from .context import Context
from .messages import M_PARAMS
from .rules import without_redundant_biases


def params(ctx: Context):
    d = ctx.d
    ref_total = ctx.R.graph.total_params()
    g = ctx.S.graph
    total = g.total_params()
    if g.partial:
        return
    if total == ref_total:
        return
    if d.arch.norms_are_style:
        # what allowed substitutions add (BatchNorm/LayerNorm instead of LRN, BN after convs)
        allowance = 0
        for n in g.nodes.values():
            if n.op == "norm" and n.a("norm") in ("batchnorm", "layernorm"):
                allowance += n.params
            if n.a("post_norm") == "batchnorm" and n.a("filters"):
                allowance += 4 * int(n.a("filters"))
                if not n.a("use_bias"):
                    allowance -= int(n.a("filters"))  # a BatchNorm makes the conv's bias redundant
        if total - allowance == ref_total:
            return
    elif without_redundant_biases(g) == without_redundant_biases(ctx.R.graph):
        return  # the same network, with or without the biases a BatchNorm makes redundant
    cause = ctx.shape_cause("total")
    d.add("params", "error", "total", M_PARAMS, {}, ref_total, total, caused_by=cause, order=99)
