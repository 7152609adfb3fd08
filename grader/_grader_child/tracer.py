"""The recording: every Keras layer call, keras.ops call and raw TF op the
student's code makes, as the nodes and tensor ids of the trace's graph.

The ``Tracer`` keeps what was recorded and where in the student's files it
happened; ``hooks`` puts it in Keras's way (its hooks call
``begin`` and ``end`` around each call).
"""

from __future__ import annotations

import os
import sys
import traceback

from . import ENTRY_FILE, PACKAGE_DIR
from .standins import StandIn

MAX_NODES = 20000
CONFIG_KEYS = (
    "filters", "kernel_size", "strides", "padding", "activation", "pool_size",
    "rate", "units", "axis", "use_bias", "data_format", "depth_radius", "alpha",
    "beta", "bias", "dilation_rate", "groups", "depth_multiplier", "epsilon",
    "center", "scale", "target_shape", "keepdims", "size", "momentum",
    "max_value", "negative_slope", "threshold", "noise_shape", "cropping",
)
TF_ATTRS = ("ksize", "strides", "padding", "depth_radius", "bias", "alpha", "beta", "data_format", "dilations", "keep_dims")
SKIP_TF_OPS = {"Const", "ReadVariableOp", "VarHandleOp", "Placeholder", "NoOp", "VariableV2", "AssignVariableOp"}


def _jsonable(v, depth=0):
    if depth > 4:
        return repr(v)[:80]
    if v is None or isinstance(v, (bool, int, str)):
        return v if not isinstance(v, str) else v[:200]
    if isinstance(v, float):
        return v if v == v and v not in (float("inf"), float("-inf")) else repr(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x, depth + 1) for x in v[:64]]
    if isinstance(v, dict):
        return {str(k)[:80]: _jsonable(x, depth + 1) for k, x in list(v.items())[:64]}
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")[:200]
    try:
        import numpy as np

        if isinstance(v, np.generic):
            return _jsonable(v.item(), depth + 1)
        if isinstance(v, np.ndarray) and v.size <= 64:
            return _jsonable(v.tolist(), depth + 1)
    except Exception:
        pass
    name = getattr(v, "__name__", None)
    if isinstance(name, str):
        return name
    return repr(v)[:80]


def _shape(t):
    try:
        s = t.shape
        if s is None:
            return None
        return [None if d is None else int(d) for d in (s.as_list() if hasattr(s, "as_list") else s)]
    except Exception:
        return None


class Tracer:
    """Records every Keras layer call, keras.ops call and raw TF op."""

    def __init__(self, student_root: str):
        self.root = os.path.realpath(student_root) + os.sep
        # the tracer's own files, never the student's even when under the root
        self.own_file = os.path.realpath(ENTRY_FILE)
        self.own_dir = os.path.realpath(PACKAGE_DIR) + os.sep
        self.tensor_ids: dict[int, str] = {}
        self.keep: list = []  # strong refs so that id() is never reused
        self.nodes: list[dict] = []
        self.aliases: list[list[str]] = []
        self.stack: list[dict] = []
        self.ctor: dict[int, dict] = {}
        self.tf_ops: dict[int, dict] = {}
        self.busy = False
        self.notes: list[dict] = []
        self.overflow = False
        self.hooks: list[tuple] = []  # (owner, attribute, our hook), see hooks.install()
        self.called: set[int] = set()  # id() of every layer and op whose call was recorded
        self.node_objs: dict = {}  # node id -> the layer called, for the activation probes
        self._student: dict[str, bool] = {}
        self._own: dict[str, bool] = {}  # filename -> whether it is one of the tracer's own files
        self._noted: set = set()
        # the script's progress: the top-level statement running (-1: none)
        self.stmt = -1
        # every keras.Model constructed from the student's code, with where and when
        self.models: list[dict] = []
        # every stand-in made for a missing package: (path, source), by number
        self.standins: list[tuple] = []
        self.attempt = None  # the builder call being tried, for the report when it fails
        # id() of a layer -> its name as the student wrote it, where Keras refused it (a `/`)
        self.written_names: dict[int, str] = {}

    # -- identities and sources ------------------------------------------------
    def tid(self, t) -> str:
        k = id(t)
        if k not in self.tensor_ids:
            self.tensor_ids[k] = f"t{len(self.tensor_ids)}"
            self.keep.append(t)
        return self.tensor_ids[k]

    def known(self, t) -> bool:
        return id(t) in self.tensor_ids

    def is_student_file(self, filename: str) -> bool:
        hit = self._student.get(filename)
        if hit is None:
            if not filename or filename.startswith("<"):  # <frozen ...>, <string>: never a file of the student's
                self._student[filename] = False
                return False
            try:
                hit = os.path.realpath(filename).startswith(self.root) and not self.is_own_file(filename)
            except Exception:
                hit = False
            self._student[filename] = hit
        return hit

    def is_own_file(self, filename: str) -> bool:
        """Whether a code object's file is one of the tracer's own (its entry file, its package)."""
        own = self._own.get(filename)
        if own is None:
            try:
                real = os.path.realpath(filename) if filename and not filename.startswith("<") else filename
                own = real == self.own_file or str(real).startswith(self.own_dir)
            except Exception:
                own = False
            self._own[filename] = own
        return own

    def rel(self, filename: str) -> str:
        return os.path.relpath(os.path.realpath(filename), self.root)

    def student_source(self):
        st = self.student_stack(1)
        return st[0] if st else None

    def called_by_keras(self) -> bool:
        """Whether the layer being called was called by Keras's own code (a
        Sequential calling the layers of its list), not by a line of the
        student's: then the line that calls it is no line about that layer."""
        f = sys._getframe(1)
        while f is not None:
            if not self.is_own_file(f.f_code.co_filename):  # the first frame that is not the tracer's: the caller
                return not self.is_student_file(f.f_code.co_filename)
            f = f.f_back
        return True

    def student_stack(self, limit=6):
        """The student's frames on the stack, innermost first."""
        out = []
        f = sys._getframe(1)
        while f is not None and len(out) < limit:
            if self.is_student_file(f.f_code.co_filename):
                out.append({"file": self.rel(f.f_code.co_filename), "line": f.f_lineno})
            f = f.f_back
        return out

    def student_source_from_tb(self, tb):
        best = None
        for fr in traceback.extract_tb(tb):
            if self.is_student_file(fr.filename):
                best = {"file": self.rel(fr.filename), "line": fr.lineno}
        return best

    def note(self, kind: str, key: tuple, **fields):
        """One note per (kind, key, line): a mapping used in a loop is noted once."""
        src = self.student_source()
        k = (kind, key, src["file"] if src else None, src["line"] if src else None)
        if k in self._noted or len(self._noted) > 2000:
            return
        self._noted.add(k)
        self.notes.append({"kind": kind, **fields, "source": src})

    def legacy(self, what: str, old: str, new: str):
        """A Keras 2 spelling read as its Keras 3 equivalent, noted where the student
        wrote it. ``what``: ``module`` (an import path or a moved name), ``argument``
        (a renamed keyword) or ``behaviour`` (what Keras 3 removed, given back)."""
        if self.student_source() is not None:
            self.note("legacy_api", (what, old, new), what=what, old=old, new=new)

    # -- sessions ----------------------------------------------------------------
    def reset(self):
        self.nodes = []
        self.node_objs = {}
        self.aliases = []
        self.stack = []
        self.tf_ops = {}

    def snapshot(self):
        return {"nodes": self.nodes, "aliases": self.aliases}

    # -- recording -----------------------------------------------------------------
    def flat_tensors(self, structure):
        import keras

        out = []
        try:
            leaves = keras.tree.flatten(structure)
        except Exception:
            leaves = list(structure) if isinstance(structure, (list, tuple)) else [structure]
        for x in leaves:
            if x is not None and not isinstance(x, StandIn) and hasattr(x, "shape") and hasattr(x, "dtype"):
                out.append(x)
        return out

    def resolve(self, t, depth=0, force=False):
        """The tensor's id, recording the raw TF ops that produced it when it
        comes from a computation no Keras call recorded (tf.nn inside a layer).
        ``force`` records the op even though the tensor is known (the output of
        a custom layer whose call was run directly on graph tensors)."""
        if (self.known(t) and not force) or depth > 200:
            return self.tid(t)
        op = getattr(t, "op", None)
        if op is None or not hasattr(op, "type") or op.type in SKIP_TF_OPS:
            return self.tid(t)
        key = id(op)
        if key not in self.tf_ops:
            self.tf_ops[key] = None  # in progress; inputs first, so nodes stay in topological order
            self.keep.append(op)
            in_ids = []
            for x in op.inputs:
                xop = getattr(x, "op", None)
                if self.known(x) or (xop is not None and xop.type not in SKIP_TF_OPS):
                    in_ids.append(self.resolve(x, depth + 1))
            node = self.new_node("tf", op.type, op.name.rsplit("/", 1)[-1][:80])
            self.tf_ops[key] = node
            cfg = {}
            for a in TF_ATTRS:
                try:
                    v = op.get_attr(a)
                    cfg[a] = _jsonable(v)
                except Exception:
                    pass
            if op.type in ("ConcatV2", "Mean", "Sum", "Max", "Reshape", "Transpose", "Squeeze", "ExpandDims", "Pack", "Softmax"):
                try:
                    import tensorflow as tf

                    v = tf.get_static_value(op.inputs[-1])
                    if v is not None:
                        cfg["const"] = _jsonable(v)
                except Exception:
                    pass
            node["config"] = cfg
            node["in_shapes"] = [_shape(x) for x in op.inputs]
            node["out_shapes"] = [_shape(x) for x in op.outputs]
            node["inputs"] = in_ids
            node["outputs"] = [self.tid(x) for x in op.outputs]
            node["source"] = self.op_source(op)
        return self.tid(t)

    def op_source(self, op):
        try:
            tb = op.traceback
        except Exception:
            return None
        best = None
        for fr in tb or []:
            fn = getattr(fr, "filename", None)
            if fn and self.is_student_file(fn):
                best = {"file": self.rel(fn), "line": fr.lineno}
        return best or (self.stack[-1]["source"] if self.stack else None)

    def new_node(self, kind, cls, name):
        if len(self.nodes) >= MAX_NODES:
            self.overflow = True
            return {"id": "overflow", "kind": kind, "class": cls}
        n = {
            "id": f"n{len(self.nodes)}",
            "kind": kind,
            "class": cls,
            "name": name,
            "config": {},
            "inputs": [],
            "outputs": [],
            "in_shapes": [],
            "out_shapes": [],
            "params": 0,
            "nontrainable_params": 0,
            "source": None,
            "ctor": None,
            "parent": self.stack[-1]["id"] if self.stack else None,
            "container": False,
            "module": "",
            "error": None,
        }
        self.nodes.append(n)
        return n

    def layer_config(self, layer):
        cfg = {}
        try:
            full = layer.get_config()
        except Exception:
            full = {}
        for k in CONFIG_KEYS:
            if k in full:
                cfg[k] = _jsonable(full[k])
            elif hasattr(layer, k) and not callable(getattr(layer, k, None)):
                try:
                    cfg[k] = _jsonable(getattr(layer, k))
                except Exception:
                    pass
        if "activation" in full:
            cfg["activation"] = _jsonable(full["activation"])
        # Lambda layers: the function's name helps, the ops inside tell the truth
        fn = getattr(layer, "function", None)
        if fn is not None and callable(fn):
            cfg["function"] = getattr(fn, "__name__", "lambda")
        return cfg

    def own_params(self, layer):
        def size(v):
            n = 1
            for d in v.shape:
                n *= int(d)
            return n

        tr = sum(size(v) for v in getattr(layer, "_trainable_variables", []) if getattr(v, "trainable", True))
        nt = sum(size(v) for v in getattr(layer, "_trainable_variables", []) if not getattr(v, "trainable", True))
        nt += sum(size(v) for v in getattr(layer, "_non_trainable_variables", []))
        return tr, nt

    def begin(self, obj, args, kwargs, is_layer):
        cls = type(obj)
        # resolve the inputs first: raw TF ops that made them are recorded before this node
        ins = self.flat_tensors((args, kwargs))
        in_ids = [self.resolve(t) for t in ins]
        name = self.written_names.get(id(obj)) or str(getattr(obj, "name", ""))
        node = self.new_node("layer" if is_layer else "op", cls.__name__, name[:120])
        node["module"] = cls.__module__[:120]
        stack = self.student_stack()
        node["source"] = stack[0] if stack else None
        node["stack"] = stack
        node["ctor"] = self.ctor.get(id(obj))
        if is_layer and node["ctor"] is not None:
            node["via_keras"] = self.called_by_keras()
        if is_layer:
            node["config"] = self.layer_config(obj)
            node["container"] = bool(getattr(obj, "_layers", None)) or hasattr(obj, "_functional") or hasattr(obj, "_operations")
        else:
            node["config"] = {
                k: _jsonable(v)
                for k, v in vars(obj).items()
                if not k.startswith("_") and isinstance(v, (int, float, str, bool, tuple, list, type(None)))
            }
        node["inputs"] = in_ids
        node["in_shapes"] = [_shape(t) for t in ins]
        node["_obj"] = obj
        self.node_objs[node["id"]] = obj
        self.called.add(id(obj))
        self.keep.append(obj)
        self.stack.append(node)
        return node

    def end(self, node, obj, outputs, error=None):
        self.stack.pop()
        node.pop("_obj", None)
        if error is not None:
            node["error"] = {"type": type(error).__name__, "message": str(error)[:2000]}
        if outputs is not None:
            outs = self.flat_tensors(outputs)
            ins = set(node["inputs"])
            for t in outs:
                # A layer that hands back its input object (Dropout outside
                # training): later uses of that object come from this layer.
                if self.known(t) and self.tid(t) in ins:
                    self.tensor_ids[id(t)] = f"t{len(self.tensor_ids)}r{len(self.nodes)}"
            node["outputs"] = [self.tid(t) for t in outs]
            node["out_shapes"] = [_shape(t) for t in outs]
        try:
            node["params"], node["nontrainable_params"] = self.own_params(obj)
        except Exception:
            pass
        # A custom layer run directly on graph tensors (inside a subclassed
        # model): record the raw ops of its call, so a tf.nn LRN is seen as one.
        if (outputs is not None and error is None and node["kind"] == "layer"
                and not type(obj).__module__.startswith(("keras", "tensorflow"))):
            start = int(node["id"][1:]) if node["id"][1:].isdigit() else 0
            made_inside = {o for n in self.nodes[start:] if n.get("parent") == node["id"] for o in n.get("outputs", [])}
            self.stack.append(node)
            try:
                for t in self.flat_tensors(outputs):
                    if (getattr(t, "op", None) is not None and getattr(t, "graph", None) is not None
                            and self.tid(t) not in made_inside):
                        self.resolve(t, force=True)
            except Exception:
                pass
            finally:
                self.stack.pop()
        # A functional model called as a layer: its inner graph was recorded
        # when it was built; its inputs and outputs are the same tensors.
        fn = getattr(obj, "_functional", None) or (obj if hasattr(obj, "_operations") and hasattr(obj, "inputs") else None)
        if fn is not None and outputs is not None and error is None:
            try:
                inner_in = self.flat_tensors(fn.inputs)
                inner_out = self.flat_tensors(fn.outputs)
                outer_in = node["inputs"]
                if len(inner_in) == len(outer_in):
                    for a, b in zip(inner_in, outer_in):
                        self.aliases.append([self.tid(a), b])
                if len(inner_out) == len(node["outputs"]):
                    for a, b in zip(inner_out, node["outputs"]):
                        self.aliases.append([b, self.tid(a)])
                node["container"] = True
            except Exception:
                pass

