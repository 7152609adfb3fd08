"""How one reference layer and the student's layer in its place are compared:
the differences that change the result (padding only where it changes the
map), and the words for layers and operations used in messages."""

from __future__ import annotations

from ..graph import Graph, Node
from .messages import (M_ACTIVATION, M_AXIS, M_DROPOUT, M_EXTRA_BN, M_FILTERS, M_FLATTEN, M_KERNEL, M_LAYER_TYPE,
                       M_NO_BN, M_NORM, M_PADDING, M_POOL_SIZE, M_POOL_TYPE, M_RELU, M_STRIDE, M_STRIDES_GENERIC,
                       M_UNITS)
from .text import dims, jsonable, shape_text
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for annotations only: loading an assignment can trace a solution through this module
    from ..assignment import Assignment

#: Codes of faults that change shapes or parameter counts downstream.
SHAPE_CODES = {"strides", "padding", "kernel_size", "filters", "pool_size", "layer_missing", "layer_extra",
               "argument_misuse", "input_shape", "units", "concat_axis", "branch_missing", "branch_extra",
               "layer_type", "aux_position", "norm_type", "aux_missing", "aux_extra", "output_count", "return_value",
               "shortcut_source", "activation_order"}


def padding_matters(n: Node, k, s) -> bool:
    """Whether 'same' and 'valid' would differ for this layer on its actual input."""
    if not n.in_shape or len(n.in_shape) != 4 or not k:
        return True
    for i in range(2):
        size = n.in_shape[i + 1]
        if size is None:
            return True
        out = -(-size // s[i])
        pad = max((out - 1) * s[i] + k[i] - size, 0)
        if pad > 0:
            return True
    return False


def compare(r: Node, s: Node, subs: dict, *, downstream: str = "", norms: bool = True) -> list:
    """Differences that change the result: (code, severity, template, args, expected, actual).

    ``norms``: a BatchNormalization after a convolution is a matter of style
    (GoogLeNet); when False, the reference's are part of the network (ResNet).
    An ``at`` in the args is the location of the finding, when it is not
    ``r``'s own (the BatchNormalization folded into a convolution)."""
    out = []
    if r.op != s.op:
        if r.op == "norm":
            return [("norm_type", "norm", M_LAYER_TYPE, {}, r.a("norm"), s.op)]
        if r.op == "gap" and s.op == "reshape":
            return [("layer_type", "error", M_FLATTEN, {}, layer_desc(r), "Flatten")]
        # the paper's words, never the engine's ("gap")
        expected = "global average pooling" if r.op == "gap" else r.op
        return [("layer_type", "error", M_LAYER_TYPE, {}, expected, op_name(s))]
    if r.op == "conv":
        if s.a("conv_type") != "conv":
            out.append(("layer_type", "error", M_LAYER_TYPE, {}, "Conv2D", s.cls))
        if s.a("kernel") != r.a("kernel"):
            out.append(("kernel_size", "error", M_KERNEL, {}, dims(r.a("kernel")), dims(s.a("kernel"))))
        out += window_diffs(r, s, "kernel", downstream)
        if s.a("filters") != r.a("filters"):
            out.append(("filters", "error", M_FILTERS, {}, r.a("filters"), s.a("filters")))
        if s.a("activation") != r.a("activation"):
            if r.a("activation") == "relu" and s.a("activation") is None:
                out.append(("activation", "error", M_RELU, {}, "relu", "none"))
            else:
                out.append(("activation", "error", M_ACTIVATION, {}, r.a("activation") or "none", s.a("activation") or "none"))
        if not norms and bool(r.a("post_norm")) != bool(s.a("post_norm")):
            if r.a("post_norm"):
                out.append(("layer_missing", "error", M_NO_BN, {"layer": "BatchNormalization", "at": r.a("post_norm_name")},
                            "BatchNormalization", None))
            else:
                out.append(("layer_extra", "error", M_EXTRA_BN, {"layer": "BatchNormalization"}, None, "BatchNormalization"))
    elif r.op == "pool":
        if s.a("pool_type") != r.a("pool_type"):
            out.append(("pool_type", "error", M_POOL_TYPE, {}, r.a("pool_type"), s.a("pool_type")))
        if s.a("pool_size") != r.a("pool_size"):
            out.append(("pool_size", "error", M_POOL_SIZE, {}, dims(r.a("pool_size")), dims(s.a("pool_size"))))
        out += window_diffs(r, s, "pool_size", downstream)
    elif r.op == "gap":
        if s.a("pool_type") != r.a("pool_type"):
            out.append(("pool_type", "error", M_POOL_TYPE, {}, r.a("pool_type"), s.a("pool_type")))
    elif r.op == "norm":
        if s.a("norm") != r.a("norm"):
            key = {"batchnorm": "batchnorm_for_lrn", "layernorm": "layernorm_for_lrn"}.get(s.a("norm"), "batchnorm_for_lrn")
            out.append(("norm_type", subs.get(key, "warning"), M_NORM, {}, "LRN", norm_name(s.a("norm"))))
        elif r.a("norm") == "lrn" and s.a("depth_radius") is not None:
            diffs = [k for k in ("depth_radius", "bias", "alpha", "beta")
                     if s.a(k) is not None and r.a(k) is not None and abs(float(s.a(k)) - float(r.a(k))) > 1e-3 * max(1e-9, abs(float(r.a(k))))]
            if diffs:
                out.append(("norm_type", "info", M_LAYER_TYPE, {},
                            "LRN(" + ", ".join(f"{k}={r.a(k):g}" for k in diffs) + ")",
                            "LRN(" + ", ".join(f"{k}={s.a(k):g}" for k in diffs) + ")"))
    elif r.op == "dropout":
        if s.a("rate") is None or abs(float(s.a("rate")) - float(r.a("rate"))) > 1e-6:
            out.append(("dropout_rate", "error", M_DROPOUT, {}, r.a("rate"), s.a("rate")))
    elif r.op == "dense":
        if s.a("units") != r.a("units"):
            out.append(("units", "error", M_UNITS, {}, r.a("units"), s.a("units")))
        if s.a("activation") != r.a("activation"):
            out.append(("activation", "error", M_ACTIVATION, {}, r.a("activation") or "none", s.a("activation") or "none"))
    elif r.op == "concat":
        ra, sa = concat_axis(r), concat_axis(s)
        if ra != sa:
            out.append(("concat_axis", "error", M_AXIS, {}, ra, sa))
    return out


def window_diffs(r: Node, s: Node, window: str, downstream: str) -> list:
    """Stride and padding of a conv or pool: padding only where it changes the result."""
    out = []
    if s.a("strides") != r.a("strides"):
        halves = (s.a("strides") or (1,))[0] > (r.a("strides") or (1,))[0]
        out.append(("strides", "error", M_STRIDE if halves else M_STRIDES_GENERIC, {"detail": downstream},
                    dims(r.a("strides")), dims(s.a("strides"))))
    if s.a("padding") != r.a("padding") and padding_matters(s, s.a(window), s.a("strides") or (1, 1)):
        out.append(("padding", "error", M_PADDING, {"detail": f"a {shape_text(s.out_shape)} map"}, r.a("padding"), s.a("padding")))
    return out


def gap_on_expected_map(r: Node, s: Node) -> bool:
    """A student's average pool in the place of the reference's global average
    pooling whose window covers the map the reference has there (a 7x7 pool
    for a 7x7 map): on that map it would be global average pooling, so it
    differs only because the map it gets is larger, which is the fault of
    whatever changed the map upstream."""
    if r.op != "gap" or s.op != "pool" or s.a("pool_type") != r.a("pool_type"):
        return False
    if not r.in_shape or len(r.in_shape) != 4 or None in r.in_shape[1:3]:
        return False
    ps = s.a("pool_size") or (0, 0)
    return ps[0] >= r.in_shape[1] and ps[1] >= r.in_shape[2]


def concat_axis(n: Node):
    ax = n.a("axis")
    rank = len(n.out_shape) if n.out_shape else 4
    if isinstance(ax, int):
        return ax % rank
    return ax


def norm_name(k):
    return {"batchnorm": "BatchNormalization", "layernorm": "LayerNormalization", "lrn": "LRN"}.get(k, str(k))


def op_name(n: Node) -> str:
    if n.op == "pool":
        return f"{'MaxPooling2D' if n.a('pool_type') == 'max' else 'AveragePooling2D'}"
    return n.cls or n.op


def is_typo(a, b) -> bool:
    """Digits transposed or one digit mistyped (114 for 144, 265 for 256)."""
    sa, sb = str(a), str(b)
    if len(sa) != len(sb) or sa == sb:
        return False
    diff = [i for i in range(len(sa)) if sa[i] != sb[i]]
    if len(diff) == 1:
        return True
    if len(diff) == 2 and diff[1] == diff[0] + 1 and sa[diff[0]] == sb[diff[1]] and sa[diff[1]] == sb[diff[0]]:
        return True
    return False


def without_redundant_biases(g: Graph) -> int:
    """The parameter total without the biases of convolutions followed by a BatchNormalization."""
    return g.total_params() - sum(int(n.a("filters") or 0) for n in g.nodes.values()
                                  if n.op == "conv" and n.a("post_norm") and n.a("use_bias"))


def config_of(n: Node) -> dict:
    keep = ("kernel", "strides", "padding", "filters", "activation", "pool_type", "pool_size", "units", "rate", "norm", "axis")
    return {k: jsonable(v) for k, v in n.attrs.items() if k in keep and v is not None}


def type_name(n: Node) -> str:
    return {"conv": "Conv2D", "pool": op_name(n), "gap": "GlobalAveragePooling2D", "norm": "LRN" if n.a("norm") == "lrn" else norm_name(n.a("norm")),
            "dropout": "Dropout", "dense": "Dense", "concat": "Concatenate", "input": "Input", "reshape": "Flatten"}.get(n.op, n.cls or n.op)


def layer_desc(n: Node) -> str:
    if n.op == "gap":
        size = n.a("pool_size") or (n.in_shape[1:3] if n.in_shape and len(n.in_shape) == 4 and None not in n.in_shape[1:3] else None)
        return f"{dims(size)} average pooling" if size else "global average pooling"
    if n.op == "conv":
        return f"{dims(n.a('kernel'))} convolution"
    if n.op == "pool":
        return f"{dims(n.a('pool_size'))} {n.a('pool_type')} pool"
    return type_name(n)


def dense_on_map_ok(A: Assignment, rn: Node, sn: Node) -> bool:
    if not A.accept_dense_on_map or sn.out_shape is None or rn.out_shape is None:
        return False
    a = tuple(x for x in sn.out_shape[1:] if x != 1)
    b = tuple(x for x in rn.out_shape[1:] if x != 1)
    return a == b
