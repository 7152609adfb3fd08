"""The canonical model graph, the same form for the student's model and the reference.

A trace (what the child recorded: every Keras layer call, keras.ops call and raw
TF op, with containers and tensor aliases) becomes a graph of leaf operations:

- activations are folded into the conv/dense they follow (``Activation('relu')``,
  ``ReLU()``, ``keras.ops.relu`` and ``tf.nn.relu`` count as ``activation='relu'``);
- a BatchNormalization between a conv and its activation stays with the conv
  (``post_norm``), since it does not change the layer's role;
- LRN, BatchNormalization and LayerNormalization are ``norm`` nodes of a kind;
- an average pool whose window covers the whole map (output 1x1) is global
  average pooling; reshape-like ops are ``reshape`` nodes.

Parameter counts are recomputed from the configs and shapes, and every conv and
pool output shape is checked against its input and config: a trace that claims
what was not built is rejected (``TraceError``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

ACTIVATIONS = {"relu": "relu", "softmax": "softmax", "sigmoid": "sigmoid", "tanh": "tanh", "elu": "elu",
               "selu": "selu", "gelu": "gelu", "swish": "swish", "silu": "swish", "leaky_relu": "leaky_relu",
               "relu6": "relu6", "softplus": "softplus", "linear": None, None: None}
TF_ACT = {"Relu": "relu", "Softmax": "softmax", "Sigmoid": "sigmoid", "Tanh": "tanh", "Elu": "elu", "Selu": "selu",
          "Relu6": "relu6", "LeakyRelu": "leaky_relu", "Softplus": "softplus", "Gelu": "gelu"}
PASS_TF = {"Identity", "Cast", "BiasAdd", "StopGradient", "IdentityN", "EnsureShape"}


class TraceError(ValueError):
    """The trace is malformed or claims what its configs cannot produce."""


@dataclass(frozen=True)
class Node:
    id: str
    op: str  # input conv dense pool gap norm dropout reshape concat add act other
    inputs: tuple = ()
    out_shape: tuple | None = None
    in_shape: tuple | None = None
    attrs: dict = field(default_factory=dict)
    params: int = 0
    source: tuple | None = None  # (file, line) of the call
    ctor: tuple | None = None  # (file, line) where the layer was created
    cls: str = ""
    name: str = ""
    stack: tuple = ()  # the student's frames at the call, innermost first
    via_keras: bool = False  # Keras called the layer, no line of the student's (a Sequential calling its list)


    def a(self, key, default=None):
        return self.attrs.get(key, default)


@dataclass
class Graph:
    nodes: dict  # id -> Node, in topological (recording) order
    inputs: list
    outputs: list
    partial: bool = False

    def consumers(self) -> dict:
        out: dict = {nid: [] for nid in self.nodes}
        for n in self.nodes.values():
            for i in n.inputs:
                if i in out:
                    out[i].append(n.id)
        return out

    def total_params(self) -> int:
        return sum(n.params for n in self.nodes.values())

    # -- (de)serialisation for the reference cache -----------------------------------
    def to_dict(self) -> dict:
        return {
            "nodes": [
                {**n.__dict__, "inputs": list(n.inputs), "out_shape": _l(n.out_shape), "in_shape": _l(n.in_shape),
                 "source": _l(n.source), "ctor": _l(n.ctor), "stack": [list(x) for x in n.stack]}
                for n in self.nodes.values()
            ],
            "inputs": self.inputs, "outputs": self.outputs, "partial": self.partial,
        }

    @classmethod
    def from_dict(cls, d) -> "Graph":
        nodes = {}
        for x in d["nodes"]:
            x = dict(x)
            for k in ("inputs", "out_shape", "in_shape", "source", "ctor"):
                x[k] = _t(x[k])
            x["attrs"] = {k: _t(v) if isinstance(v, list) else v for k, v in x["attrs"].items()}
            x["stack"] = tuple(tuple(f) for f in x.get("stack", []))
            nodes[x["id"]] = Node(**x)
        return cls(nodes, list(d["inputs"]), list(d["outputs"]), d.get("partial", False))


def _l(x):
    return None if x is None else list(x)


def _t(x):
    return None if x is None else tuple(x)


def _pair(v, default=None):
    if v is None:
        return default
    if isinstance(v, (list, tuple)):
        v = [int(x) for x in v if isinstance(x, (int, float))]
        if len(v) == 4:  # NHWC ksize/strides of raw TF ops
            v = v[1:3]
        if len(v) == 1:
            v = v * 2
        return tuple(v[:2]) if v else default
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (int(v), int(v))
    return default


def _act(v):
    if isinstance(v, dict):
        # a function Keras serialises as an object (tf.nn.softmax is `softmax_v2`)
        v = v.get("config") if isinstance(v.get("config"), str) else v.get("class_name")
        if isinstance(v, str) and v.endswith("_v2"):
            v = v[:-3]
    if isinstance(v, str):
        v = v.lower()
    elif v is not None:
        return None
    return ACTIVATIONS.get(v, v)


def _shape(s):
    if s is None:
        return None
    try:
        return tuple(None if d is None else int(d) for d in s)
    except (TypeError, ValueError):
        return None


# -- classification of recorded nodes -----------------------------------------------------


def classify(n: dict) -> tuple[str, dict]:
    """(canonical op, attributes) of one recorded leaf node. Where the tracer ran
    the student's own activation code on its probe (``computes`` in the config),
    what it computes decides, not its name: a pass-through layer of one's own is
    no layer, a function named relu that computes a sigmoid is a sigmoid."""
    op, attrs = _classify_by_class(n)
    computed = (n.get("config") or {}).get("computes")
    if not isinstance(computed, str) or computed == "other":
        return op, attrs
    fn = ACTIVATIONS.get(computed, computed)
    if op in ("other", "pass"):
        return ("pass", {}) if fn is None else ("act", {"fn": fn, "computes": computed})
    key = "fn" if op == "act" else "activation" if "activation" in attrs else None
    if key is not None and attrs.get(key) != fn:
        attrs = dict(attrs, **{key: fn, "named": attrs.get(key), "computes": computed})
    return op, attrs


def _classify_by_class(n: dict) -> tuple[str, dict]:
    """(canonical op, attributes) of one recorded leaf node, by its class and config."""
    cls = n.get("class", "")
    cfg = n.get("config") or {}
    kind = n.get("kind")
    lname = cls.lower()
    if kind == "tf":
        if cls in TF_ACT:
            return "act", {"fn": TF_ACT[cls]}
        if cls == "LRN":
            return "norm", {"norm": "lrn", "depth_radius": cfg.get("depth_radius"), "bias": cfg.get("bias"),
                            "alpha": cfg.get("alpha"), "beta": cfg.get("beta")}
        if cls in ("MaxPool", "AvgPool", "MaxPoolV2"):
            return "pool", {"pool_type": "max" if cls.startswith("Max") else "avg", "pool_size": _pair(cfg.get("ksize")),
                            "strides": _pair(cfg.get("strides")), "padding": str(cfg.get("padding", b"VALID")).lower()}
        if cls == "ConcatV2":
            return "concat", {"axis": cfg.get("const")}
        if cls in ("Mean", "Max"):
            return "gap", {"axes": cfg.get("const"), "pool_type": "avg" if cls == "Mean" else "max"}
        if cls in ("Conv2D",):
            return "conv", {"strides": _pair(cfg.get("strides")), "padding": str(cfg.get("padding", "")).lower(), "raw": True}
        if cls in ("Reshape", "Squeeze", "ExpandDims"):
            return "reshape", {}
        if cls in ("AddV2", "Add"):
            return "add", {}
        if cls in PASS_TF:
            return "pass", {}
        return "other", {"what": cls}
    if kind == "op":
        if cls in ("Relu", "Softmax", "Sigmoid", "Tanh", "Elu", "Selu", "Gelu", "Relu6", "LeakyRelu", "Silu"):
            return "act", {"fn": _act({"Silu": "swish", "Relu6": "relu6", "LeakyRelu": "leaky_relu"}.get(cls, cls.lower()))}
        if cls == "Concatenate":
            return "concat", {"axis": cfg.get("axis")}
        if cls in ("Mean", "Max"):
            return "gap", {"axes": cfg.get("axis"), "pool_type": "avg" if cls == "Mean" else "max"}
        if cls in ("Reshape", "Flatten", "Squeeze", "ExpandDims"):
            return "reshape", {}
        if cls in ("Add",):
            return "add", {}
        if cls in ("MaxPool", "AveragePool"):
            return "pool", {"pool_type": "max" if cls == "MaxPool" else "avg", "pool_size": _pair(cfg.get("pool_size")),
                            "strides": _pair(cfg.get("strides")) or _pair(cfg.get("pool_size")),
                            "padding": str(cfg.get("padding", "valid")).lower()}
        if cls in ("LocalResponseNormalization",):
            return "norm", {"norm": "lrn"}
        return "other", {"what": cls}
    # Keras layers
    if cls in ("Conv2D", "Convolution2D", "SeparableConv2D", "DepthwiseConv2D", "SeparableConvolution2D"):
        attrs = {
            "kernel": _pair(cfg.get("kernel_size")), "strides": _pair(cfg.get("strides"), (1, 1)),
            "padding": str(cfg.get("padding", "valid")).lower(), "filters": cfg.get("filters"),
            "activation": _act(cfg.get("activation")), "use_bias": bool(cfg.get("use_bias", True)),
            "dilation": _pair(cfg.get("dilation_rate"), (1, 1)), "groups": int(cfg.get("groups") or 1),
            "conv_type": {"Conv2D": "conv", "Convolution2D": "conv", "DepthwiseConv2D": "depthwise"}.get(cls, "separable"),
            "depth_multiplier": cfg.get("depth_multiplier"),
        }
        return "conv", attrs
    if cls == "Dense":
        return "dense", {"units": cfg.get("units"), "activation": _act(cfg.get("activation")),
                         "use_bias": bool(cfg.get("use_bias", True))}
    if cls in ("MaxPooling2D", "AveragePooling2D", "MaxPool2D", "AvgPool2D", "AveragePool2D"):
        ps = _pair(cfg.get("pool_size"), (2, 2))
        return "pool", {"pool_type": "max" if cls.startswith("Max") else "avg", "pool_size": ps,
                        "strides": _pair(cfg.get("strides")) or ps, "padding": str(cfg.get("padding", "valid")).lower()}
    if cls in ("GlobalAveragePooling2D", "GlobalAvgPool2D"):
        return "gap", {"pool_type": "avg", "keepdims": bool(cfg.get("keepdims"))}
    if cls in ("GlobalMaxPooling2D", "GlobalMaxPool2D"):
        return "gap", {"pool_type": "max", "keepdims": bool(cfg.get("keepdims"))}
    if cls in ("Activation",):
        return "act", {"fn": _act(cfg.get("activation"))}
    if cls in ("ReLU",):
        if cfg.get("max_value") not in (None, 0) or cfg.get("negative_slope") not in (None, 0, 0.0):
            return "act", {"fn": "relu_variant"}
        return "act", {"fn": "relu"}
    if cls in ("Softmax",):
        return "act", {"fn": "softmax"}
    if cls in ("LeakyReLU", "PReLU", "ELU"):
        return "act", {"fn": lname}
    if cls == "BatchNormalization":
        return "norm", {"norm": "batchnorm"}
    if cls == "LayerNormalization":
        return "norm", {"norm": "layernorm"}
    if cls in ("GroupNormalization", "UnitNormalization"):
        return "norm", {"norm": lname}
    if "depth_radius" in cfg or "lrn" in lname or "localresponse" in lname or "local_response" in lname:
        return "norm", {"norm": "lrn", "depth_radius": cfg.get("depth_radius"), "bias": cfg.get("bias"),
                        "alpha": cfg.get("alpha"), "beta": cfg.get("beta")}
    if cls in ("Dropout", "SpatialDropout2D", "AlphaDropout", "GaussianDropout"):
        return "dropout", {"rate": cfg.get("rate"), "dropout_type": cls}
    if cls in ("Flatten", "Reshape"):
        return "reshape", {"what": cls}
    if cls in ("Concatenate",):
        return "concat", {"axis": cfg.get("axis", -1)}
    if cls in ("Add",):
        return "add", {}
    if cls in ("ZeroPadding2D",):
        return "zeropad", {"pad": cfg.get("padding")}
    if cls in ("Lambda", "InputLayer", "Identity", "Layer"):
        return "pass", {}
    return "other", {"what": cls}


# -- building ----------------------------------------------------------------------------------


class _UF:
    def __init__(self):
        self.p: dict = {}

    def find(self, x):
        p = self.p
        root = x
        while p.get(root, root) != root:
            root = p[root]
        while p.get(x, x) != root:
            p[x], x = root, p[x]
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.p[ra] = rb


def _ancestors(n: dict, byid: dict) -> list:
    out, p = [], n.get("parent")
    while p in byid and len(out) < 100:
        out.append(p)
        p = byid[p].get("parent")
    return out


def _producers(leaves, uf) -> dict:
    producer: dict = {}
    for n in leaves:
        for t in n.get("outputs") or []:
            producer[uf.find(t)] = n["id"]
    return producer


def _link_containers(raw, leaves, producer, uf):
    """Where Keras ran a container's call on fresh tensors (a Lambda computes its
    output spec on new placeholders), tie the container's input and output to the
    loose ends of what ran inside it."""
    byid = {n.get("id"): n for n in raw}
    leaf_ids = {n["id"] for n in leaves}

    inside: dict = {}
    for n in leaves:
        p = n.get("parent")
        while p in byid:
            inside.setdefault(p, []).append(n)
            p = byid[p].get("parent")
    for pid, kids in inside.items():
        parent = byid[pid]
        if pid in leaf_ids:
            continue
        pins = parent.get("inputs") or []
        pouts = parent.get("outputs") or []
        made = {uf.find(t) for k in kids for t in k.get("outputs") or []}
        pin_set = {uf.find(t) for t in pins}
        loose = []  # inputs of what ran inside that nothing inside made, in order
        for k in kids:
            for t in k.get("inputs") or []:
                ct = uf.find(t)
                if ct not in made and ct not in producer and ct not in pin_set and ct not in loose:
                    loose.append(ct)
        if len(pins) == 1:
            for ct in loose:
                uf.union(ct, pins[0])
        elif len(loose) == len(pins):
            # e.g. Lambda(lambda t: tf.concat(t, -1))([a, b, c, d]): in call order
            for ct, t in zip(loose, pins):
                uf.union(ct, t)
        if len(pouts) == 1 and uf.find(pouts[0]) not in producer and kids:
            last = kids[-1].get("outputs") or []
            if last:
                uf.union(pouts[0], last[0])


def _src(s):
    if isinstance(s, dict) and isinstance(s.get("file"), str) and isinstance(s.get("line"), int):
        return (s["file"], s["line"])
    return None


def build(tg: dict, *, partial: bool = False) -> Graph:
    """The canonical graph of a validated trace graph (``trace["graph"]`` or a probe)."""
    raw = tg.get("nodes") or []
    uf = _UF()
    for a, b in tg.get("aliases") or []:
        uf.union(a, b)
    has_children = {n.get("parent") for n in raw if n.get("parent")}
    # A student's own LRN layer (named so, written with keras.ops or tf.math)
    # stands for the normalization as a whole, not for the arithmetic inside it.
    byid_raw = {n.get("id"): n for n in raw}
    whole = {n["id"] for n in raw if n.get("id") in has_children and n.get("kind") == "layer"
             and classify(n)[0] == "norm" and classify(n)[1].get("norm") == "lrn"}
    # ... unless TensorFlow's own LRN runs inside it: that op carries the parameters
    whole -= {p for n in raw if n.get("kind") == "tf" and n.get("class") == "LRN" for p in _ancestors(n, byid_raw)}

    def inside_whole(n):
        return any(p in whole for p in _ancestors(n, byid_raw))

    leaves = []
    for n in raw:
        if inside_whole(n):
            continue
        if n.get("id") in has_children and n.get("id") not in whole:
            continue
        if n.get("container") and n.get("kind") == "layer" and n.get("class") in ("Functional", "Sequential", "Model"):
            continue
        leaves.append(n)
    producer = _producers(leaves, uf)
    _link_containers(raw, leaves, producer, uf)
    producer = _producers(leaves, uf)

    inputs = [uf.find(t) for t in tg.get("inputs") or []]
    outputs = [uf.find(t) for t in tg.get("outputs") or []]

    # keep only what leads to the outputs (a complete model) or everything (partial)
    keep = set()
    if outputs and not partial:
        stack = [producer[t] for t in outputs if t in producer]
        byid = {n["id"]: n for n in leaves}
        while stack:
            nid = stack.pop()
            if nid in keep:
                continue
            keep.add(nid)
            for t in byid[nid].get("inputs") or []:
                p = producer.get(uf.find(t))
                if p is not None and p not in keep:
                    stack.append(p)
    else:
        keep = {n["id"] for n in leaves}

    nodes: dict = {}
    input_ids: dict = {}

    def in_node(t):
        if t not in input_ids:
            nid = f"in{len(input_ids)}"
            input_ids[t] = nid
            nodes[nid] = Node(nid, "input", (), None, None, {}, 0, None, None, "InputLayer", "data")
        return input_ids[t]

    for t in inputs:
        in_node(t)
    for nid, src in zip(list(input_ids.values()), tg.get("input_sources") or []):
        if _src(src):
            nodes[nid] = replace(nodes[nid], source=_src(src), ctor=_src(src))
    tensor_node: dict = {}  # canonical tensor -> canonical node id that produces it
    for t, nid in input_ids.items():
        tensor_node[t] = nid
    for n in leaves:
        if n["id"] not in keep:
            continue
        op, attrs = classify(n)
        ins = []
        in_shapes = n.get("in_shapes") or []
        for t in n.get("inputs") or []:
            ct = uf.find(t)
            if ct in tensor_node:
                ins.append(tensor_node[ct])
            elif ct in producer and producer[ct] in keep:
                continue  # produced later (should not happen in recording order)
            elif partial or not inputs:
                ins.append(in_node(ct))
            # else: a constant or a tensor from outside the model
        out_shapes = n.get("out_shapes") or []
        out_shape = _shape(out_shapes[0]) if out_shapes else None
        in_shape = _shape(in_shapes[0]) if in_shapes else None
        node = Node(n["id"], op, tuple(dict.fromkeys(ins)), out_shape, in_shape, attrs, int(n.get("params") or 0),
                    _src(n.get("source")), _src(n.get("ctor")), n.get("class", ""), str(n.get("name", "")),
                    tuple(x for x in (_src(f) for f in n.get("stack") or []) if x), n.get("via_keras") is True)
        nodes[node.id] = node
        for t in n.get("outputs") or []:
            tensor_node[uf.find(t)] = node.id
    for t, nid in input_ids.items():
        # the input's shape: what its first consumer saw
        for n in nodes.values():
            if nid in n.inputs and n.in_shape is not None:
                nodes[nid] = replace(nodes[nid], out_shape=n.in_shape)
                break
    out_nodes = [tensor_node[t] for t in outputs if t in tensor_node]
    g = Graph(nodes, list(input_ids.values()), out_nodes, partial or not out_nodes)
    simplify(g)
    recompute_params(g)
    check_shapes(g)
    return g


def _rewire(g: Graph, old: str, new: str):
    for nid, n in list(g.nodes.items()):
        if old in n.inputs:
            g.nodes[nid] = replace(n, inputs=tuple(dict.fromkeys(new if i == old else i for i in n.inputs)))
    g.outputs = [new if o == old else o for o in g.outputs]


def _remove(g: Graph, nid: str):
    n = g.nodes.pop(nid)
    _rewire(g, nid, n.inputs[0] if n.inputs else nid)


def remove_node(g: Graph, nid: str):
    """Take a node out of ``g``, its consumers fed by its first input."""
    _remove(g, nid)


def simplify(g: Graph):
    """Fold activations, absorb BN after convs, drop pass-through ops, and
    recognise global pooling written as a pool over the whole map."""
    for nid in [k for k, n in g.nodes.items() if n.op == "pass"]:
        if len(g.nodes[nid].inputs) == 1:
            _remove(g, nid)
    changed = True
    while changed:
        changed = False
        cons = g.consumers()
        for nid, n in list(g.nodes.items()):
            if n.op != "act" or len(n.inputs) != 1:
                continue
            prev = g.nodes.get(n.inputs[0])
            if prev is None or len(cons.get(prev.id, [])) != 1 or prev.id in g.outputs:
                continue
            target = prev
            if prev.op == "norm" and prev.a("norm") == "batchnorm" and len(prev.inputs) == 1:
                pp = g.nodes.get(prev.inputs[0])
                if pp is not None and pp.op in ("conv", "dense") and len(cons.get(pp.id, [])) == 1:
                    target = pp
            if target.op in ("conv", "dense") and target.a("activation") in (None, n.a("fn")):
                g.nodes[target.id] = replace(target, attrs={**target.attrs, "activation": n.a("fn"),
                                                            "activation_source": n.source})
                _remove(g, nid)
                changed = True
                break
    # Concatenation is associative: concat(x0, x1, ..., xl) written over the whole
    # list of features (DenseNet's equation 2) is concat(concat(x0, ..., x(l-1)), xl)
    # when that shorter concatenation exists; the dense layers are then merges
    # of their input and their new features, however the student wrote them
    by_inputs = {}
    for nid, n in g.nodes.items():
        if n.op == "concat" and len(n.inputs) >= 2:
            by_inputs.setdefault(tuple(n.inputs), nid)
    for nid, n in list(g.nodes.items()):
        if n.op != "concat" or len(n.inputs) < 3:
            continue
        for k in range(len(n.inputs) - 1, 1, -1):
            prev = by_inputs.get(tuple(n.inputs[:k]))
            if prev is not None and prev != nid and _axis_of(g.nodes[prev]) == _axis_of(n):
                g.nodes[nid] = replace(n, inputs=(prev,) + tuple(n.inputs[k:]))
                break
    # Explicit zero padding before a 'valid' conv or pool (the Caffe way) is
    # 'same' padding when it gives the map 'same' would
    cons = g.consumers()
    for nid, n in list(g.nodes.items()):
        if n.op != "zeropad" or len(n.inputs) != 1 or len(cons.get(nid, [])) != 1:
            continue
        nxt = g.nodes[cons[nid][0]]
        if nxt.op not in ("conv", "pool") or nxt.a("padding") != "valid" or not n.in_shape or not nxt.out_shape:
            continue
        st = nxt.a("strides") or (1, 1)
        same = all(n.in_shape[i + 1] is not None and nxt.out_shape[i + 1] == math.ceil(n.in_shape[i + 1] / st[i])
                   for i in range(2))
        if same:
            g.nodes[nxt.id] = replace(nxt, in_shape=n.in_shape, attrs={**nxt.attrs, "padding": "same", "explicit_pad": True})
            _remove(g, nid)
            cons = g.consumers()
    # BatchNormalization right after a conv belongs to the conv
    cons = g.consumers()
    for nid, n in list(g.nodes.items()):
        if n.op == "norm" and n.a("norm") == "batchnorm" and len(n.inputs) == 1:
            prev = g.nodes.get(n.inputs[0])
            if prev is not None and prev.op in ("conv", "dense") and len(cons.get(prev.id, [])) == 1:
                g.nodes[prev.id] = replace(prev, attrs={**prev.attrs, "post_norm": "batchnorm", "post_norm_name": n.name},
                                           params=prev.params)
                _remove(g, nid)
                cons = g.consumers()
    # an average pool over the whole map is global average pooling
    for nid, n in list(g.nodes.items()):
        if n.op == "pool" and n.a("pool_type") == "avg" and n.in_shape and n.out_shape and len(n.out_shape) == 4:
            h, w = n.in_shape[1], n.in_shape[2]
            ps = n.a("pool_size") or (0, 0)
            if n.out_shape[1] == 1 and n.out_shape[2] == 1 and h and w and ps[0] >= h and ps[1] >= w:
                g.nodes[nid] = replace(n, op="gap", attrs={**n.attrs, "pool_type": "avg", "keepdims": True,
                                                           "written_as": "pool"})
        if n.op == "gap" and n.attrs.get("axes") is not None:
            axes = n.attrs["axes"]
            if not (isinstance(axes, list) and sorted(a % 4 for a in axes if isinstance(a, int)) == [1, 2]):
                g.nodes[nid] = replace(n, op="other", attrs={"what": "mean"})


def _axis_of(n: Node):
    ax = n.a("axis")
    rank = len(n.out_shape) if n.out_shape else 4
    return ax % rank if isinstance(ax, int) else ax


def recompute_params(g: Graph):
    """Parameter counts follow from configs and shapes; never take the child's word."""
    for nid, n in list(g.nodes.items()):
        cin = n.in_shape[-1] if n.in_shape else None
        p = n.params
        if n.op == "conv" and not n.a("raw") and cin and n.a("kernel") and n.a("filters"):
            kh, kw = n.a("kernel")
            f = int(n.a("filters"))
            ct = n.a("conv_type")
            if ct == "depthwise":
                dm = int(n.a("depth_multiplier") or 1)
                p = kh * kw * cin * dm + (cin * dm if n.a("use_bias") else 0)
            elif ct == "separable":
                dm = int(n.a("depth_multiplier") or 1)
                p = kh * kw * cin * dm + cin * dm * f + (f if n.a("use_bias") else 0)
            else:
                p = kh * kw * (cin // max(1, n.a("groups", 1))) * f + (f if n.a("use_bias") else 0)
            if n.a("post_norm") == "batchnorm":
                p += 4 * f
        elif n.op == "dense" and cin and n.a("units"):
            u = int(n.a("units"))
            p = cin * u + (u if n.a("use_bias") else 0)
        elif n.op in ("pool", "gap", "dropout", "reshape", "concat", "act", "input", "add", "zeropad"):
            p = 0
        elif n.op == "norm" and cin:
            p = {"batchnorm": 4 * cin, "layernorm": 2 * cin, "lrn": 0}.get(n.a("norm"), p)
        g.nodes[nid] = replace(n, params=int(p))


def conv_out(size, k, s, padding, d=1):
    if size is None:
        return None
    if padding == "same":
        return math.ceil(size / s)
    eff = (k - 1) * d + 1
    return max(0, (size - eff) // s + 1)


def check_shapes(g: Graph):
    for n in g.nodes.values():
        if n.op not in ("conv", "pool") or not n.in_shape or not n.out_shape or len(n.in_shape) != 4:
            continue
        if n.a("raw"):
            continue
        k = n.a("kernel") if n.op == "conv" else n.a("pool_size")
        s = n.a("strides") or (1, 1)
        d = n.a("dilation") or (1, 1)
        if not k:
            continue
        exp = tuple(conv_out(n.in_shape[i + 1], k[i], s[i], n.a("padding"), d[i]) for i in range(2))
        if tuple(n.out_shape[1:3]) != exp:
            raise TraceError(f"trace claims {n.cls} output {n.out_shape} from input {n.in_shape} with {n.attrs}")
        if n.op == "conv" and n.a("conv_type") == "conv" and n.a("filters") and n.out_shape[3] != n.a("filters"):
            raise TraceError(f"trace claims {n.out_shape[3]} channels from a conv with {n.a('filters')} filters")


def check_wiring(g: Graph) -> None:
    """A traced model hangs together: raise TraceError naming the first place
    where it does not. Every output of a complete model is reached from one of
    its inputs, and every layer whose parameters or output follow from its
    input (conv, dense, pool, norm, global pooling) has an input in the graph
    whose shape is the one the layer claims to have received, so parameter
    counts recomputed from the configs rest on shapes that really flowed."""
    for n in g.nodes.values():
        if n.op not in ("conv", "dense", "pool", "norm", "gap"):
            continue
        src = g.nodes.get(n.inputs[0]) if n.inputs else None
        if src is None or n.in_shape is None:
            raise TraceError(f"{n.cls} {n.name!r} has no input in the graph")
        if src.out_shape is not None and tuple(src.out_shape) != tuple(n.in_shape):
            raise TraceError(f"{n.cls} {n.name!r} claims input {list(n.in_shape)} where its input "
                             f"{src.cls} {src.name!r} gives {list(src.out_shape)}")
    if g.partial:
        return
    reached = set(g.inputs)
    cons = g.consumers()
    todo = list(g.inputs)
    while todo:
        for c in cons.get(todo.pop(), []):
            if c not in reached:
                reached.add(c)
                todo.append(c)
    for o in g.outputs:
        if o not in reached:
            n = g.nodes[o]
            raise TraceError(f"the output {n.cls} {n.name!r} is not connected to the model's input")
