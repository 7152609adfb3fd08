"""The tracer that runs inside the child process, next to the student's code.

This file is executed as a script in the sandbox (``python _child.py REQUEST``);
it imports nothing from the grader, only the standard library, NumPy and Keras,
so it can be bound into the sandbox alone. It runs the student's entry file as
``__main__`` with every Keras call recorded, finds the model, probes the
student's inception function, and writes one JSON document (schema
``grader.trace/1``) to the result channel, file descriptor 3.

Nothing here is trusted by the parent: the student's code runs in this very
process and could rewrite any of it. The parent validates the JSON, recomputes
what follows from the layer configs, checks every source line against the
submission's files, and never unpickles anything.

The trace is sealed: the parent leaves a fresh random key in the scratch folder
for each run (``seal_file`` in the request); it is read into an HMAC object and
deleted before any student code runs, and the trace goes out as
``grader.trace-seal/1 <hmac-sha256 hex>\n<json>``. A submission that writes a
trace of its own, or replays one from another run, cannot seal it. (One that
digs the HMAC object out of this process's memory can: see the README's sandbox
section for what the parent then still checks.)
"""

from __future__ import annotations

import __future__
import ast
import dis
import importlib
import importlib.abc
import importlib.machinery
import inspect
import json
import math
import os
import re
import sys
import time
import traceback
import types

# Taken before any student code runs: a submission that patches json.dumps or
# os.write to lie does not change what this process reports.
_dumps = json.dumps
_fdopen = os.fdopen
_exit = os._exit
try:  # the C HMAC: its key lives in OpenSSL, never as a Python object
    from _hashlib import hmac_new as _hmac_new
except ImportError:  # pragma: no cover - Python built without OpenSSL
    import hmac as _hmac

    def _hmac_new(key, digestmod):
        return _hmac.new(key, digestmod=digestmod)

SEAL_PREFIX = b"grader.trace-seal/1 "
SEAL_BYTES = 32

TRACE_SCHEMA = "grader.trace/1"
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

    def __init__(self, student_root: str, child_file: str):
        self.root = os.path.realpath(student_root) + os.sep
        self.child_file = os.path.realpath(child_file)
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
        self.hooks: list[tuple] = []  # (owner, attribute, our hook), see install()
        self.called: set[int] = set()  # id() of every layer and op whose call was recorded
        self._student: dict[str, bool] = {}
        self._noted: set = set()
        # the script's progress: the top-level statement running (-1: none)
        self.stmt = -1
        # every keras.Model constructed from the student's code, with where and when
        self.models: list[dict] = []
        # every stand-in made for a missing package: (path, source), by number
        self.standins: list[tuple] = []
        self.attempt = None  # the builder call being tried, for the report when it fails

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
                f = os.path.realpath(filename)
                hit = f.startswith(self.root) and f != self.child_file
            except Exception:
                hit = False
            self._student[filename] = hit
        return hit

    def rel(self, filename: str) -> str:
        return os.path.relpath(os.path.realpath(filename), self.root)

    def student_source(self):
        st = self.student_stack(1)
        return st[0] if st else None

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
        node = self.new_node("layer" if is_layer else "op", cls.__name__, str(getattr(obj, "name", ""))[:120])
        node["module"] = cls.__module__[:120]
        stack = self.student_stack()
        node["source"] = stack[0] if stack else None
        node["stack"] = stack
        node["ctor"] = self.ctor.get(id(obj))
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

    # -- patches ---------------------------------------------------------------------
    def install(self):
        from keras.src import backend as kbackend
        from keras.src.layers.layer import Layer
        from keras.src.ops.operation import Operation

        tracer = self
        orig_layer_call = Layer.__call__
        orig_symbolic = Operation.symbolic_call
        orig_init = Layer.__init__
        orig_cos = kbackend.compute_output_spec

        from keras.src.models.model import Model

        def layer_init(self_, *a, **k):
            if not tracer.busy:
                try:
                    src = tracer.student_source()
                    tracer.ctor[id(self_)] = src
                    tracer.keep.append(self_)
                    if src is not None and isinstance(self_, Model):
                        # a candidate even when it is never bound to a global (returned from main())
                        tracer.models.append({"model": self_, "source": src, "stmt": tracer.stmt})
                except Exception:
                    pass
            return orig_init(self_, *a, **k)

        def traced(orig, self_, args, kwargs, is_layer):
            """Record one call around Keras's own: begin, the call, end (with
            the error when it raises), never recording the tracer's own calls."""
            tracer.busy = True
            try:
                node = tracer.begin(self_, args, kwargs, is_layer)
            finally:
                tracer.busy = False
            try:
                out = orig(self_, *args, **kwargs)
            except BaseException as e:
                tracer.busy = True
                try:
                    tracer.end(node, self_, None, e)
                finally:
                    tracer.busy = False
                raise
            tracer.busy = True
            try:
                tracer.end(node, self_, out)
            finally:
                tracer.busy = False
            return out

        def layer_call(self_, *args, **kwargs):
            if tracer.busy:
                return orig_layer_call(self_, *args, **kwargs)
            return traced(orig_layer_call, self_, args, kwargs, True)

        def symbolic_call(self_, *args, **kwargs):
            # a Layer's symbolic call is already recorded by layer_call
            if tracer.busy or isinstance(self_, Layer):
                return orig_symbolic(self_, *args, **kwargs)
            return traced(orig_symbolic, self_, args, kwargs, False)

        def compute_output_spec(fn, *args, **kwargs):
            if tracer.busy:
                return orig_cos(fn, *args, **kwargs)
            outer_in = tracer.flat_tensors((args, kwargs))
            captured = {}

            def fn2(*a, **k):
                inner_in = tracer.flat_tensors((a, k))
                if len(inner_in) == len(outer_in):
                    for x, y in zip(inner_in, outer_in):
                        tracer.aliases.append([tracer.tid(x), tracer.tid(y)])
                out = fn(*a, **k)
                tracer.busy = True
                try:
                    captured["out"] = [tracer.resolve(t) for t in tracer.flat_tensors(out)]
                finally:
                    tracer.busy = False
                return out

            res = orig_cos(fn2, *args, **kwargs)
            outs = tracer.flat_tensors(res)
            if "out" in captured and len(captured["out"]) == len(outs):
                for t, inner in zip(outs, captured["out"]):
                    tracer.aliases.append([tracer.tid(t), inner])
            return res

        self.hooks = [(Layer, "__call__", layer_call), (Operation, "symbolic_call", symbolic_call),
                      (Layer, "__init__", layer_init), (kbackend, "compute_output_spec", compute_output_spec)]
        for owner, attr, hook in self.hooks:
            setattr(owner, attr, hook)

    def restore_hooks(self) -> list[str]:
        """Put back what the submission undid: hooks removed or replaced, the
        recording switched off, Keras imported afresh (its new classes get
        hooks of their own). Returns what was found out of place."""
        from keras.src import backend as kbackend
        from keras.src.layers.layer import Layer
        from keras.src.ops.operation import Operation

        wrong = []
        if self.busy:
            wrong.append("recording switched off")
            self.busy = False
        if [o for o, _, _ in self.hooks] != [Layer, Operation, Layer, kbackend]:
            wrong.append("Keras imported again")
            self.install()
            return wrong
        for owner, attr, hook in self.hooks:
            if getattr(owner, attr, None) is not hook:
                wrong.append(f"{getattr(owner, '__name__', owner)}.{attr}")
                setattr(owner, attr, hook)
        return wrong

    def unrecorded(self, fn) -> list:
        """The operations of a functional model (and of the functional models
        inside it) whose call the tracer never recorded."""
        out, seen, todo = [], set(), [fn]
        while todo:
            f = todo.pop()
            for op in getattr(f, "_operations", None) or []:
                if id(op) in seen or type(op).__name__ == "InputLayer":
                    continue
                seen.add(id(op))
                if id(op) not in self.called:
                    out.append(op)
                inner = functional_of(op)
                if inner is not None:
                    todo.append(inner)
        return out


# -- training and download stand-ins ----------------------------------------------------

DATASET_SHAPES = {
    "cifar10": ((32, 32, 3), (1,), 10),
    "cifar100": ((32, 32, 3), (1,), 100),
    "mnist": ((28, 28), (), 10),
    "fashion_mnist": ((28, 28), (), 10),
    "boston_housing": ((13,), (), 0),
    "california_housing": ((8,), (), 0),
}


def install_stubs(tracer: Tracer):
    import numpy as np
    import keras

    def note(what):
        # once per call and line: a training loop calling fit 30 times is one note
        tracer.note("training_skipped", (what,), call=what)

    def history(model, kwargs, args):
        h = keras.callbacks.History()
        epochs = int(kwargs.get("epochs", args[2] if len(args) > 2 and isinstance(args[2], int) else 1) or 1)
        epochs = max(1, min(epochs, 1000))
        names = ["loss"]
        try:
            for m in getattr(model, "_compile_metrics", None) and model.metrics_names or []:
                if m not in names:
                    names.append(m)
        except Exception:
            pass
        if "accuracy" not in names:
            names.append("accuracy")
        hist = {n: [0.0] * epochs for n in names}
        if kwargs.get("validation_data") is not None or kwargs.get("validation_split"):
            hist.update({"val_" + n: [0.0] * epochs for n in names})
        h.history = hist
        h.epoch = list(range(epochs))
        h.params = {"epochs": epochs, "verbose": 0}
        try:
            h.set_model(model)
        except Exception:
            pass
        return h

    def fit(self, *args, **kwargs):
        note("Model.fit")
        return history(self, kwargs, (None,) + args)

    def evaluate(self, *args, **kwargs):
        note("Model.evaluate")
        n = 1 + max(0, len(getattr(self, "metrics_names", []) or []) - 1)
        return 0.0 if n == 1 else [0.0] * n

    def predict(self, x=None, *args, **kwargs):
        note("Model.predict")
        try:
            n = len(x)
        except Exception:
            n = 1
        n = max(1, min(n, 64))
        outs = [np.zeros((n,) + tuple(d or 1 for d in o.shape[1:]), "float32") for o in self.outputs]
        return outs[0] if len(outs) == 1 else outs

    def on_batch(name):
        def f(self, *a, **k):
            note(f"Model.{name}")
            return 0.0

        return f

    def noop(name):
        def f(*a, **k):
            note(name)
            return None

        return f

    M = keras.Model
    M.fit = fit
    M.evaluate = evaluate
    M.predict = predict
    M.train_on_batch = on_batch("train_on_batch")
    M.test_on_batch = on_batch("test_on_batch")
    M.predict_on_batch = predict
    M.save = noop("Model.save")
    M.save_weights = noop("Model.save_weights")
    M.load_weights = noop("Model.load_weights")

    def make_load_data(name):
        xs, ys, k = DATASET_SHAPES.get(name, ((32, 32, 3), (1,), 10))

        def load_data(*a, **kw):
            note(f"keras.datasets.{name}.load_data")
            dtype = "uint8" if k else "float32"
            return (
                (np.zeros((16,) + xs, dtype), np.zeros((16,) + ys, "uint8" if k else "float32")),
                (np.zeros((8,) + xs, dtype), np.zeros((8,) + ys, "uint8" if k else "float32")),
            )

        return load_data

    def get_file(*a, **kw):
        note("keras.utils.get_file")
        path = os.path.join(os.getcwd(), ".grader_downloads")
        os.makedirs(path, exist_ok=True)
        return path

    def plot_model(*a, **kw):
        tracer.note("skipped", ("keras.utils.plot_model",), call="keras.utils.plot_model")
        return None

    for modname, mod in list(sys.modules.items()):
        if mod is None or not modname.startswith(("keras", "tensorflow")):
            continue
        leaf = modname.rsplit(".", 1)[-1]
        if leaf in DATASET_SHAPES and hasattr(mod, "load_data"):
            try:
                mod.load_data = make_load_data(leaf)
            except Exception:
                pass
        if leaf == "utils":
            for attr, fn in (("get_file", get_file), ("plot_model", plot_model)):
                if hasattr(mod, attr):
                    try:
                        setattr(mod, attr, fn)
                    except Exception:
                        pass

    # Keras 2's generator spellings of the training calls (removed in Keras 3)
    for name, fn in (("fit_generator", fit), ("evaluate_generator", evaluate), ("predict_generator", predict)):
        def legacy_call(self, *a, _fn=fn, _name=name, **k):
            tracer.legacy("behaviour", f"Model.{_name}()", f"Model.{_name.split('_')[0]}()")
            return _fn(self, *a, **k)

        setattr(M, name, legacy_call)

    # tensorflow_datasets: a stand-in module, whether or not the real one is installed.
    # Eight small images per split, shaped like what tfds.load gives: (image, label)
    # pairs with as_supervised=True, else {"image", "label"} dicts, so a student's
    # preprocessing runs as it would on the real data.
    tfds = StandInModule("tensorflow_datasets")

    def dataset(supervised):
        import tensorflow as tf

        images = np.zeros((8, 32, 32, 3), "uint8")
        labels = np.zeros((8,), "int64")
        if supervised:
            return tf.data.Dataset.from_tensor_slices((images, labels))
        return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})

    def info():
        split = types.SimpleNamespace(num_examples=8, name="train")
        feats = {"label": types.SimpleNamespace(num_classes=10, names=[str(i) for i in range(10)]),
                 "image": types.SimpleNamespace(shape=(32, 32, 3), dtype="uint8")}
        return types.SimpleNamespace(features=feats, splits={"train": split, "test": split, "validation": split},
                                     name="stand-in")

    def tfds_load(name="", *a, **kw):
        note("tensorflow_datasets.load")
        sup = bool(kw.get("as_supervised"))
        split = kw.get("split")
        if isinstance(split, (list, tuple)):
            out = [dataset(sup) for _ in split]
        elif split:
            out = dataset(sup)
        else:
            out = {"train": dataset(sup), "test": dataset(sup)}
        return (out, info()) if kw.get("with_info") else out

    class Builder:
        def __init__(self, *a, **k):
            self.info = info()

        def download_and_prepare(self, *a, **k):
            note("tensorflow_datasets.builder.download_and_prepare")

        def as_dataset(self, split=None, as_supervised=False, **k):
            return tfds_load(split=split, as_supervised=as_supervised)

    def as_numpy(ds, *a, **k):
        try:
            return ds.as_numpy_iterator()
        except AttributeError:
            return ds

    tfds.load = tfds_load
    tfds.builder = Builder
    tfds.as_numpy = as_numpy
    tfds.__path__ = []
    tfds._grader_provided = True  # the grader's own stand-in, whether or not tfds is installed
    sys.modules["tensorflow_datasets"] = tfds


# -- stand-ins for packages that are not installed ----------------------------------------
#
# Students import plotting, data and course helper packages (matplotlib, sklearn,
# seaborn, tqdm, d2l, google.colab, ...) that the grading environment does not
# have. An import of such a package, made from the student's own code, gives a
# stand-in module whose names do nothing; the model's construction only fails when
# it really depends on one, and then the build error says which name it used.

_STATE: dict = {"tracer": None}
_MAX_STANDINS = 20000


def _standin_no(obj, path) -> int:
    tracer = _STATE["tracer"]
    if tracer is None or len(tracer.standins) >= _MAX_STANDINS:
        return -1
    tracer.standins.append((path, tracer.student_source()))
    return len(tracer.standins) - 1


def _unpack_count(frame) -> int:
    """How many values the instruction running in ``frame`` unpacks (``a, b = x``), else 0."""
    try:
        for ins in dis.get_instructions(frame.f_code):
            if ins.offset == frame.f_lasti:
                if ins.opname == "UNPACK_SEQUENCE":
                    return int(ins.arg)
                if ins.opname == "UNPACK_EX":
                    return (ins.arg & 0xFF) + (ins.arg >> 8)
                return 0
    except Exception:
        pass
    return 0


def _display(path: str) -> str:
    """`d2l.Inception()()` -> `d2l.Inception`, `split()[1].shape` -> `split`: the
    name the student used, before the first call or index."""
    return re.split(r"[(\[]", path, maxsplit=1)[0] or path


class StandIn:
    """A name from a package that is not installed where the grader runs.

    Attributes, calls, indexing, arithmetic, iteration and ``with`` all work and
    do nothing; unpacking gives as many stand-ins as asked for; ``tqdm(it)``
    iterates ``it``. Its repr names it, so an error it causes can be traced back
    to the name the student used."""

    __slots__ = ("_grader_path", "_grader_no", "_grader_items", "_grader_attrs", "__weakref__")

    def __init__(self, path: str, items=None):
        object.__setattr__(self, "_grader_path", path)
        object.__setattr__(self, "_grader_items", items)
        object.__setattr__(self, "_grader_attrs", {})
        object.__setattr__(self, "_grader_no", _standin_no(self, path))

    def __getattr__(self, name):
        if name.startswith("_"):  # protocols and private probes (numpy, Keras) must fail as usual
            raise AttributeError(name)
        attrs = object.__getattribute__(self, "_grader_attrs")
        if name in attrs:
            return attrs[name]
        return StandIn(f"{self._grader_path}.{name}")

    def __setattr__(self, name, value):
        self._grader_attrs[name] = value

    def __delattr__(self, name):
        self._grader_attrs.pop(name, None)

    def __call__(self, *args, **kwargs):
        # a decorator from a missing package leaves the function as it is
        if len(args) == 1 and not kwargs and inspect.isfunction(args[0]):
            return args[0]
        leaf = self._grader_path.rsplit(".", 1)[-1]
        items = None
        if leaf in ("tqdm", "tqdm_notebook", "tnrange", "trange"):
            if leaf in ("trange", "tnrange"):
                items = range(*[a for a in args if isinstance(a, int)][:3])
            else:
                it = args[0] if args else kwargs.get("iterable")
                if it is not None and not isinstance(it, (str, bytes)) and hasattr(it, "__iter__"):
                    items = it
        return StandIn(f"{self._grader_path}()", items)

    def __getitem__(self, key):
        attrs = self._grader_attrs
        try:
            if ("[]", key) in attrs:
                return attrs[("[]", key)]
        except TypeError:
            pass
        return StandIn(f"{self._grader_path}[{key!r:.30}]")

    def __setitem__(self, key, value):
        try:
            self._grader_attrs[("[]", key)] = value
        except TypeError:
            pass

    def __delitem__(self, key):
        pass

    def __iter__(self):
        if self._grader_items is not None:
            return iter(self._grader_items)
        n = _unpack_count(sys._getframe(1))
        return iter([StandIn(f"{self._grader_path}[{i}]") for i in range(n)])

    def __len__(self):
        try:
            return len(self._grader_items) if self._grader_items is not None else 0
        except TypeError:
            return 0

    def __bool__(self):
        return False

    def __int__(self):
        return 0

    __index__ = __int__

    def __float__(self):
        return 0.0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __contains__(self, item):
        return False

    def __reversed__(self):
        return iter(())

    def __eq__(self, other):
        return other is self

    def __ne__(self, other):
        return other is not self

    def __hash__(self):
        return id(self)

    def __lt__(self, other):
        return False

    __le__ = __gt__ = __ge__ = __lt__

    def __mro_entries__(self, bases):
        return ()  # `class Net(missing.Base):` is a plain class

    def __instancecheck__(self, obj):
        return False

    def __subclasscheck__(self, cls):
        return False

    def __repr__(self):
        root = self._grader_path.split(".", 1)[0]
        return f"<stand-in #{self._grader_no} for {_display(self._grader_path)} ({root} is not installed)>"

    __str__ = __repr__

    def __format__(self, spec):
        return repr(self)

    def _grader_same(self, *a):
        return StandIn(self._grader_path)


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor",
            "lshift", "rshift", "divmod"):
    setattr(StandIn, f"__{_op}__", StandIn._grader_same)
    setattr(StandIn, f"__r{_op}__", StandIn._grader_same)
for _op in ("neg", "pos", "abs", "invert"):
    setattr(StandIn, f"__{_op}__", StandIn._grader_same)


class StandInModule(types.ModuleType):
    """A module that is not installed: every name in it is a StandIn."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return StandIn(f"{self.__name__}.{name}")


def standin_in(exc, tb):
    """The stand-in an error came from: named in its message, or held by a frame of its traceback."""
    tracer = _STATE["tracer"]
    if tracer is None:
        return None
    found = None
    m = re.search(r"<stand-in #(\d+) for ", str(exc))
    if m and int(m.group(1)) < len(tracer.standins):
        found = tracer.standins[int(m.group(1))]
    if found is None:
        for frame, _ in traceback.walk_tb(tb):
            if frame.f_locals is frame.f_globals:
                continue  # module-level code: every imported stand-in is a global there
            for v in list(frame.f_locals.values())[:200]:
                vals = list(v)[:64] if isinstance(v, (list, tuple)) else [v]
                for x in vals:
                    if isinstance(x, StandIn) and 0 <= x._grader_no < len(tracer.standins):
                        found = tracer.standins[x._grader_no]
    if found is None:
        return None
    path, src = found
    return {"kind": "standin", "module": path.split(".", 1)[0], "name": _as_written(path, src, tracer), "source": src}


def _as_written(path: str, src, tracer) -> str:
    """The stand-in's name as the student wrote it at its line (`d2l.Inception` for
    `from d2l import tensorflow as d2l`), else its module path."""
    name = _display(path)
    leaf = name.rsplit(".", 1)[-1]
    if src is not None and leaf.isidentifier():
        import linecache

        text = linecache.getline(os.path.join(tracer.root, src["file"]), src["line"])
        hits = re.findall(r"(?<![\w.])((?:[A-Za-z_]\w*\.)*" + re.escape(leaf) + r")(?!\w)", text)
        if hits:
            return hits[0]
    return name


# -- Keras 2 and old tf.keras spellings ---------------------------------------------------
#
# Old tutorials import from Keras 2 module paths that Keras 3 removed. Each
# resolves to the Keras 3 modules holding the same names (searched in order);
# "" is the keras package itself.

_L = ("layers",)
LEGACY_MODULES = {
    "layers.core": _L, "layers.convolutional": _L, "layers.pooling": _L, "layers.merge": _L,
    "layers.normalization": _L, "layers.normalization_v2": _L, "layers.normalization.batch_normalization": _L,
    "layers.advanced_activations": _L, "layers.recurrent": _L, "layers.embeddings": _L, "layers.noise": _L,
    "layers.wrappers": _L, "layers.local": _L, "layers.convolutional_recurrent": _L, "layers.cudnn_recurrent": _L,
    "layers.experimental": _L, "layers.experimental.preprocessing": _L, "layers.preprocessing": _L,
    "engine": ("layers", "models", "", "utils"), "engine.topology": ("layers", "models", "", "utils"),
    "engine.training": ("models", ""), "engine.input_layer": ("layers", ""), "engine.base_layer": ("layers",),
    "engine.sequential": ("models",), "engine.functional": ("models",), "engine.network": ("models",),
    "utils.np_utils": ("utils",), "utils.vis_utils": ("utils",), "utils.data_utils": ("utils",),
    "utils.generic_utils": ("utils",), "utils.layer_utils": ("utils",), "utils.io_utils": ("utils",),
}
LEGACY_PREFIXES = ("keras.", "tensorflow.keras.")


def legacy_targets(fullname: str):
    for prefix in LEGACY_PREFIXES:
        if fullname.startswith(prefix):
            rest = fullname[len(prefix):]
            if rest in LEGACY_MODULES:
                return tuple("keras" + ("." + t if t else "") for t in LEGACY_MODULES[rest])
    return None


class LegacyModule(types.ModuleType):
    """A Keras 2 module path: its names are looked up in the Keras 3 modules that hold them."""

    def __init__(self, name, targets):
        super().__init__(name)
        self.__dict__["_grader_targets"] = targets

    def __getattr__(self, name):
        targets = self.__dict__.get("_grader_targets", ())
        if name == "__all__":
            names = set()
            for t in targets:
                names.update(n for n in dir(importlib.import_module(t)) if not n.startswith("_"))
            return sorted(names)
        if name.startswith("__"):
            raise AttributeError(name)
        for t in targets:
            mod = importlib.import_module(t)
            if hasattr(mod, name):
                return getattr(mod, name)
        raise AttributeError(f"module {self.__name__!r} (read as {', '.join(targets)}) has no attribute {name!r}")


def _importer_frame():
    """The frame that asked for an import: the first one outside the import machinery."""
    f = sys._getframe(2)
    while f is not None:
        fn = f.f_code.co_filename
        if not (fn.startswith("<frozen importlib") or fn == __file__
                or fn.endswith(("importlib/__init__.py", "importlib/_bootstrap.py", "importlib/_bootstrap_external.py"))):
            return f
        f = f.f_back
    return None


def _is_namespace(mod) -> bool:
    spec = getattr(mod, "__spec__", None)
    return (mod is not None and hasattr(mod, "__path__") and getattr(mod, "__file__", None) is None
            and not isinstance(mod, (StandInModule, LegacyModule))
            and (spec is None or spec.origin in (None, "namespace")))


class GraderImporter(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path, so it is only asked about modules no other finder has.

    For an import made by the student's own code it maps a Keras 2 module path to
    Keras 3, and gives a stand-in for a package that is not installed. Imports
    made by TensorFlow, Keras or NumPy (which probe optional packages with
    ``try: import x``) are never answered, nor is a submodule of a real package,
    nor a module the assignment lists in ``never_stub``."""

    def __init__(self, tracer: Tracer, never_stub):
        self.tracer = tracer
        self.never = tuple(never_stub or ())

    def find_spec(self, fullname, path=None, target=None):
        frame = _importer_frame()
        if frame is None or not self.tracer.is_student_file(frame.f_code.co_filename):
            return None
        if legacy_targets(fullname):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        if any(fullname == n or fullname.startswith(n + ".") for n in self.never):
            return None
        parent = fullname.rpartition(".")[0]
        if parent:
            pm = sys.modules.get(parent)
            if not (isinstance(pm, StandInModule) or _is_namespace(pm)):
                return None  # a real package that lacks this module: a genuine error
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        targets = legacy_targets(spec.name)
        if targets:
            self.tracer.legacy("module", spec.name, targets[0] if len(targets) == 1 else "keras")
            return LegacyModule(spec.name, targets)
        # the package that is missing: the top-most stand-in (`google.colab`: `google` is a real namespace)
        package = spec.name
        while "." in package and isinstance(sys.modules.get(package.rpartition(".")[0]), StandInModule):
            package = package.rpartition(".")[0]
        self.tracer.note("import_stubbed", (spec.name,), module=spec.name, package=package)
        return StandInModule(spec.name)

    def exec_module(self, module):
        pass


def install_import_guard(tracer: Tracer):
    """A stand-in in sys.modules is for the student's code only: when TensorFlow,
    Keras, pandas or NumPy import a package the student's code had stubbed (their
    ``try: import matplotlib``), they get the ImportError they expect."""
    import builtins

    orig = builtins.__import__

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name:
            mod = sys.modules.get(name.partition(".")[0])
            if isinstance(mod, StandInModule) and not mod.__dict__.get("_grader_provided"):
                f = (globals or {}).get("__file__")
                if not (isinstance(f, str) and tracer.is_student_file(f)):
                    raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return orig(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded_import


# -- Keras 2 behaviour that Keras 3 removed -------------------------------------------------


class _LegacyDim(int):
    """A shape dimension with TF1's ``.value``."""

    __slots__ = ()

    @property
    def value(self):
        tracer = _STATE["tracer"]
        if tracer is not None:
            tracer.legacy("behaviour", "x.shape[i].value", "x.shape[i]")
        return int(self)


class _LegacyShape(tuple):
    """A KerasTensor's shape as student code sees it: TF1's ``.value`` on each
    dimension and TensorShape's ``as_list()``; a plain tuple in every other way."""

    def __new__(cls, dims):
        return super().__new__(cls, [_LegacyDim(d) if isinstance(d, int) and not isinstance(d, bool) else d for d in dims])

    def as_list(self):
        tracer = _STATE["tracer"]
        if tracer is not None:
            tracer.legacy("behaviour", "x.shape.as_list()", "list(x.shape)")
        return [None if d is None else int(d) for d in self]

    @property
    def dims(self):
        return list(self)

    @property
    def ndims(self):
        return len(self)

    rank = ndims


def install_legacy(tracer: Tracer):
    """Keras 2 arguments and behaviour given back where the meaning is unambiguous;
    each use is noted (``legacy_api``) at the student's line."""
    import numpy as np
    import keras
    from keras.src.backend.common.keras_tensor import KerasTensor
    from keras.src.layers.convolutional.base_conv import BaseConv
    from keras.src.layers.core.dense import Dense
    from keras.src.models import functional as functional_mod
    from keras.src.models import model as model_mod
    from keras.src.optimizers.base_optimizer import BaseOptimizer

    def as_int(v):
        """Keras 2 took ``int(filters)`` / ``int(units)``; Keras 3 rejects floats and NumPy numbers."""
        if isinstance(v, bool) or type(v) is int:
            return v, False
        if isinstance(v, (float, np.floating)) and math.isfinite(float(v)):
            return int(v), True
        if isinstance(v, np.integer):
            return int(v), True
        return v, False

    def wrap_count(cls, arg, pos):
        orig = cls.__init__

        def init(self_, *a, **k):
            given = k.get(arg, a[pos] if len(a) > pos else None)
            value, changed = as_int(given)
            if changed:
                if arg in k:
                    k[arg] = value
                else:
                    a = a[:pos] + (value,) + a[pos + 1:]
                tracer.legacy("behaviour", f"{type(self_).__name__}({arg}=<{type(given).__name__}>)",
                              f"{arg}=int({arg}), as Keras 2 did")
            return orig(self_, *a, **k)

        cls.__init__ = init

    wrap_count(BaseConv, "filters", 1)  # BaseConv(rank, filters, ...)
    wrap_count(Dense, "units", 0)

    from keras.src.layers.pooling import average_pooling1d, average_pooling2d, average_pooling3d

    for mod, rank in ((average_pooling1d, 1), (average_pooling2d, 2), (average_pooling3d, 3)):
        cls = next(v for k, v in vars(mod).items() if k.startswith("AveragePooling") and isinstance(v, type))

        def pool_init(self_, *a, _orig=cls.__init__, _rank=rank, _cls=cls, **k):
            if not a and "pool_size" not in k:
                k["pool_size"] = 2 if _rank == 1 else (2,) * _rank
                tracer.legacy("behaviour", f"{_cls.__name__}() without pool_size",
                              f"pool_size={k['pool_size']} (Keras 2's default)")
            return _orig(self_, *a, **k)

        cls.__init__ = pool_init

    orig_opt = BaseOptimizer.__init__

    def opt_init(self_, *a, **k):
        if "lr" in k:
            lr = k.pop("lr")
            if a:
                a = (lr,) + tuple(a[1:])
            else:
                k["learning_rate"] = lr
            tracer.legacy("argument", f"{type(self_).__name__}(lr=...)", "learning_rate=...")
        return orig_opt(self_, *a, **k)

    BaseOptimizer.__init__ = opt_init

    # Model(input=..., output=...): Keras 2's singular keywords
    def plural(k, where):
        for old, new in (("input", "inputs"), ("output", "outputs")):
            if old in k and new not in k:
                k[new] = k.pop(old)
                if where:
                    tracer.legacy("argument", f"Model({old}=...)", f"Model({new}=...)")
        return k

    orig_new = model_mod.Model.__new__
    orig_model_init = model_mod.Model.__init__
    orig_fn_init = functional_mod.Functional.__init__

    def model_new(cls, *a, **k):
        return orig_new(cls, *a, **plural(k, False))

    def model_init(self_, *a, **k):
        return orig_model_init(self_, *a, **plural(k, True))

    def fn_init(self_, *a, **k):
        return orig_fn_init(self_, *a, **plural(k, True))

    model_mod.Model.__new__ = staticmethod(model_new)
    model_mod.Model.__init__ = model_init
    functional_mod.Functional.__init__ = fn_init

    # x.shape[-1].value, x.get_shape().as_list(): only student code sees the TF1 forms
    shape_prop = KerasTensor.shape

    def shape_get(self_):
        s = shape_prop.fget(self_)
        if isinstance(s, tuple) and tracer.is_student_file(sys._getframe(1).f_code.co_filename):
            return _LegacyShape(s)
        return s

    def get_shape(self_):
        tracer.legacy("behaviour", "x.get_shape()", "x.shape")
        return _LegacyShape(shape_prop.fget(self_))

    KerasTensor.shape = property(shape_get, shape_prop.fset)
    KerasTensor.get_shape = get_shape

    # names Keras 3 moved: keras.backend.int_shape (tf.keras's legacy backend has the
    # Keras 2 functions), ImageDataGenerator, _obtain_input_shape, layers.experimental
    def fallback(modname, lookup):
        try:
            mod = importlib.import_module(modname)
        except Exception:
            return
        previous = mod.__dict__.get("__getattr__")

        def __getattr__(name):
            if not name.startswith("__") and tracer.is_student_file(sys._getframe(1).f_code.co_filename):
                hit = lookup(name)
                if hit is not None:
                    tracer.legacy("module", f"{modname}.{name}", hit[1])
                    return hit[0]
            if previous is not None:
                return previous(name)
            raise AttributeError(f"module {modname!r} has no attribute {name!r}")

        mod.__getattr__ = __getattr__

    def from_module(target, rename=None):
        def lookup(name):
            try:
                mod = importlib.import_module(target)
            except Exception:
                return None
            real = (rename or {}).get(name, name)
            if hasattr(mod, real):
                return getattr(mod, real), f"{target.replace('keras._tf_keras.keras', 'tf.keras')}.{real}"
            return None

        return lookup

    fallback("keras.backend", from_module("keras._tf_keras.keras.backend"))
    fallback("keras.preprocessing.image", from_module("keras._tf_keras.keras.preprocessing.image"))
    fallback("keras.applications.imagenet_utils",
             from_module("keras.src.applications.imagenet_utils", {"_obtain_input_shape": "obtain_input_shape"}))
    experimental = LegacyModule("keras.layers.experimental", ("keras.layers",))
    experimental.preprocessing = LegacyModule("keras.layers.experimental.preprocessing", ("keras.layers",))
    for layers_mod in ("keras.layers", "keras._tf_keras.keras.layers"):
        fallback(layers_mod, lambda name: (experimental, "keras.layers") if name == "experimental" else None)


# -- what an error says -----------------------------------------------------------------------

_FRAME_LINE = re.compile(r'File "([^"]+)", line (\d+), in ')


def explain(e: BaseException, tracer: Tracer):
    """(message, source): the meaningful part of an exception's message, and the
    student's line named inside it (TensorFlow's "in user code:" errors list the
    frames of a traced function in the text, not in the traceback)."""
    text = str(e) or repr(e)
    src = None
    if "in user code:" in text:
        frames = [(f, int(n)) for f, n in _FRAME_LINE.findall(text) if tracer.is_student_file(f)]
        if frames:
            src = {"file": tracer.rel(frames[-1][0]), "line": frames[-1][1]}
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        last = lines[-1] if lines else text
        name = type(e).__name__
        text = last[len(name) + 2:] if last.startswith(name + ": ") else last
    elif text.startswith("Exception encountered when calling"):
        paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        keep = [p for p in paras[1:] if not p.startswith("Arguments received by")]
        text = "\n\n".join(keep) or text
    # autograph's generated names (outer_factory.<locals>.inner_factory.<locals>.tf__f) are the student's f
    text = re.sub(r"(?:\w+\.<locals>\.)*tf__(\w+)", r"\1", text)
    return text[:4000], src


def error_record(e: BaseException, tracer: Tracer, phase: str) -> dict:
    msg, src = explain(e, tracer)
    rec = {"type": type(e).__name__, "message": msg, "phase": phase,
           "source": src or tracer.student_source_from_tb(e.__traceback__),
           "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]}
    cause = standin_in(e, e.__traceback__)
    if cause is not None:
        rec["cause"] = cause
        rec["source"] = cause["source"] or rec["source"]  # the line that used the missing package
    return rec


# -- running the script, statement by statement ----------------------------------------------


def _is_main_guard(node) -> bool:
    if not (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1
            and isinstance(node.test.ops[0], ast.Eq)):
        return False
    sides = [node.test.left, node.test.comparators[0]]
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    consts = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and consts == ["__main__"]


def _walk_local(node):
    """The nodes of a statement that run when it runs (not the bodies of the
    functions, classes and lambdas it defines)."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        for child in ast.iter_child_nodes(n):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield child  # its name is bound, its body does not run
                todo.extend(child.decorator_list)
                continue
            if isinstance(child, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                continue
            todo.append(child)


def bound_names(node) -> set:
    out = set()
    for n in _walk_local(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            out.add(n.id)
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(n.name)
        elif isinstance(n, ast.Import):
            out.update((a.asname or a.name.split(".")[0]) for a in n.names)
        elif isinstance(n, ast.ImportFrom):
            out.update((a.asname or a.name) for a in n.names if a.name != "*")
    return out


def loaded_names(node) -> set:
    return {n.id for n in _walk_local(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def script_statements(src: str, filename: str):
    """(tree, [(statement, code, in_main_block)]): each top-level statement, and each
    statement of an ``if __name__ == "__main__":`` block, compiled on its own with
    the real file name, so that line numbers stay exact. Raises SyntaxError."""
    tree = ast.parse(src, filename=filename)
    flags = 0
    out = []

    def add(node, in_main):
        nonlocal flags
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for a in node.names:
                feature = getattr(__future__, a.name, None)
                if feature is not None:
                    flags |= feature.compiler_flag
        code = compile(ast.Module(body=[node], type_ignores=[]), filename, "exec", flags=flags, dont_inherit=True)
        out.append((node, code, in_main))

    for node in tree.body:
        if _is_main_guard(node):
            for sub in node.body:
                add(sub, True)
        else:
            add(node, False)
    return tree, out


def _keras_context(tracer: Tracer, tb, node, g) -> tuple[set, bool]:
    """The KerasTensors the failing code was working with (ids the tracer knows),
    and whether it failed inside a Layer's or Model's own methods (constructing,
    calling, adding layers): how a failure is told to be part of building a network."""
    from keras.src.backend.common.keras_tensor import KerasTensor
    from keras.src.layers.layer import Layer

    tids: set = set()
    in_layer = False

    def take(v, depth=0):
        if isinstance(v, KerasTensor):
            if tracer.known(v):
                tids.add(tracer.tid(v))
        elif depth == 0 and isinstance(v, (list, tuple)):
            for x in v[:256]:
                take(x, 1)
        elif depth == 0 and isinstance(v, dict):
            for x in list(v.values())[:256]:
                take(x, 1)

    for frame, _ in traceback.walk_tb(tb):
        if frame.f_locals is frame.f_globals:
            continue
        loc = frame.f_locals
        if isinstance(loc.get("self"), Layer):
            in_layer = True  # raised in a layer's or a model's own code (the student's, or Keras's)
        if tracer.is_student_file(frame.f_code.co_filename):
            for v in list(loc.values())[:500]:
                take(v)
    for name in loaded_names(node):
        take(g.get(name))
    return tids, in_layer


class Script:
    """The outcome of running the student's file statement by statement."""

    def __init__(self):
        self.syntax = None  # the SyntaxError that kept the file from running at all
        self.failures: list[dict] = []  # the statements that raised, in order
        self.nodes: list = []  # the tracer's record of the whole run (before any reset)
        self.aliases: list = []


def run_script(tracer: Tracer, entry: str, g: dict) -> Script:
    """Run the file the way a notebook runs with errors allowed: each statement in
    turn in the module's globals; one that raises is recorded and the next runs.
    ``sys.exit`` ends the run, as it would end the script."""
    run = Script()
    src = open(entry, encoding="utf-8", errors="replace").read()
    try:
        tree, stmts = script_statements(src, entry)
    except SyntaxError as e:
        run.syntax = e
        return run
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        run.syntax = SyntaxError(str(e), (entry, 1, 0, ""))
        return run
    doc = ast.get_docstring(tree, clean=False)
    if doc is not None:
        g["__doc__"] = doc
    sys.argv = [entry]
    for i, (node, code, in_main) in enumerate(stmts):
        tracer.stmt = i
        start = (len(tracer.nodes), len(tracer.aliases))
        try:
            exec(code, g)
        except SystemExit:
            break
        except Exception as e:  # noqa: BLE001 - anything the student's code raises is a finding
            run.failures.append(_failure(tracer, e, node, i, start, g))
        except BaseException:  # KeyboardInterrupt, GeneratorExit: the script ended there
            break
    tracer.stmt = -1
    run.nodes, run.aliases = tracer.nodes, tracer.aliases
    return run


def _failure(tracer: Tracer, e: Exception, node, index: int, start: tuple, g: dict) -> dict:
    rec = error_record(e, tracer, "run")
    tids, in_layer = _keras_context(tracer, e.__traceback__, node, g)
    layer_error = any(n.get("error") for n in tracer.nodes[start[0]:])
    # The network as far as it was built: up to the layer that failed (a Concatenate
    # of mismatched branches), or, when the student's own code failed (a NameError
    # halfway through a block), up to the statement that failed.
    mark = (len(tracer.nodes), len(tracer.aliases)) if layer_error else start
    rec.update({
        "line": node.lineno, "stmt": index, "stmts": {index}, "count": 1, "caused_by": None, "role": "script",
        "names": bound_names(node), "tids": tids,
        "build_like": bool(tids) or in_layer or layer_error,
        "mark": mark[0], "alias_mark": mark[1],
        "import": isinstance(node, (ast.Import, ast.ImportFrom)),
        "missing": getattr(e, "name", None) if isinstance(e, NameError) else None,
    })
    if isinstance(e, ModuleNotFoundError) and e.name and e.name.split(".")[0] not in sys.modules:
        rec["module"] = e.name  # a package that is not there (one the assignment will not stub)
    return rec


def link_failures(failures: list[dict]) -> list[dict]:
    """Fold repeats (the same error at the same line, e.g. one inception function
    failing in nine blocks) and link a NameError to the failed statement that
    should have defined the name."""
    out: list[dict] = []
    first: dict = {}  # (type, line or message) -> the failure kept for it
    for f in failures:
        src = f["source"]  # a dict: {"file", "line"}
        key = (f["type"], tuple(sorted(src.items()))) if src else (f["type"], f["message"])
        twin = first.get(key)
        if twin is not None:
            twin["count"] += 1
            twin["names"] |= f["names"]
            twin["tids"] |= f["tids"]
            twin["build_like"] = twin["build_like"] or f["build_like"]
            twin["stmts"].add(f["stmt"])
            continue
        if f["missing"]:
            f["caused_by"] = next((k for k in range(len(out) - 1, -1, -1) if f["missing"] in out[k]["names"]), None)
        first[key] = f
        out.append(f)
    return out


def name_cause(rec: dict, failures: list[dict]):
    """A NameError whose name a failed statement should have defined (a failed
    import): the cause is that statement, at its line."""
    if rec.get("type") not in ("NameError", "UnboundLocalError"):
        return None, None
    m = re.match(r"(?:cannot access free variable |name )'(\w+)'", rec.get("message", ""))
    missing = rec.get("missing") or (m.group(1) if m else None)
    if not missing:
        return None, None
    for k in range(len(failures) - 1, -1, -1):
        f = failures[k]
        if missing in f["names"] and f is not rec and f["source"] != rec.get("source"):
            return k, missing
    return None, None


def graph_tids(ins, outs, nodes, aliases) -> set:
    """Every tensor id the graph between ``ins`` and ``outs`` is made of."""
    producer = {}
    for n in nodes:
        for t in n.get("outputs", []):
            producer.setdefault(t, n)
    partners: dict = {}
    for a, b in aliases:
        partners.setdefault(a, []).append(b)
        partners.setdefault(b, []).append(a)
    seen = set(ins)
    todo = list(outs)
    while todo and len(seen) < 200000:
        t = todo.pop()
        if t in seen:
            continue
        seen.add(t)
        n = producer.get(t)
        if n is not None:
            todo.extend(n.get("inputs", []))
        todo.extend(partners.get(t, []))
    return seen



# -- finding the model and the inception function ---------------------------------------


INPUT_NAMES = {"input", "inputs", "x", "input_tensor", "inp", "input_layer", "img_input", "input_img",
               "image_input", "inputs_tensor", "tensor", "net_input", "model_input", "in_tensor", "input_data"}
SHAPE_NAMES = {"shape", "input_shape", "in_shape", "img_shape", "image_shape", "inputshape", "input_size_hwc",
               "shape_input", "input_dims", "image_size_hwc"}
CLASS_NAMES = {"classes", "num_classes", "n_classes", "nb_classes", "num_class", "class_num", "classes_num",
               "n_class", "num_labels", "n_labels", "nclasses", "numclasses", "output_classes", "num_outputs"}
PATH_NAMES = {"weights", "weights_path", "weight_path", "weights_file", "path", "filepath", "file_path",
              "checkpoint", "checkpoint_path", "ckpt", "ckpt_path", "pretrained", "pretrained_weights",
              "model_path", "save_path", "load_path", "log_dir", "logdir"}
TOP_NAMES = {"include_top", "use_top", "top", "with_top"}


class NoValue(Exception):
    """A builder's required parameter the grader cannot supply a value for."""


def builder_call(name: str, fn, req: dict):
    """(args, kwargs, text): how to call a builder with required parameters, with
    values derived from the assignment and the parameters' names; parameters with
    a default keep it. ``text`` is the call as the report shows it."""
    import keras

    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return [], {}, f"{name}()"
    shape = tuple(req["input_shape"])
    given = req.get("builder_kwargs") or {}  # what the assignment says to call it with
    args, kwargs, shown = [], {}, []
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in given:
            kwargs[p.name] = given[p.name]
            shown.append(f"{p.name}={given[p.name]!r}")
            continue
        if p.default is not p.empty:
            continue
        n = p.name.lower()
        if n in INPUT_NAMES:
            value, text = keras.Input(shape=shape), f"Input(shape={shape!r})"
        elif n in SHAPE_NAMES:
            value, text = shape, repr(shape)
        elif n in CLASS_NAMES:
            value = int(req.get("num_classes", 1000))
            text = repr(value)
        elif n in PATH_NAMES or n.endswith(("_path", "_file", "_dir", "_filepath")):
            value, text = None, "None"
        elif n in TOP_NAMES:
            value, text = True, "True"
        elif n in ("height", "img_height", "image_height", "rows", "img_rows", "h"):
            value, text = shape[0], repr(shape[0])
        elif n in ("width", "img_width", "image_width", "cols", "img_cols", "w"):
            value, text = shape[1], repr(shape[1])
        elif n in ("channels", "in_channels", "input_channels", "img_channels", "c"):
            value, text = shape[2], repr(shape[2])
        else:
            raise NoValue(p.name)
        if p.kind == p.POSITIONAL_ONLY:
            args.append(value)
            shown.append(text)
        else:
            kwargs[p.name] = value
            shown.append(f"{p.name}={text}")
    return args, kwargs, f"{name}({', '.join(shown)})"


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


def builder_candidates(g: dict, req: dict):
    """The assignment's builders by their exact names, then the same names written
    with other capitals or underscores (`googleNet`, `Google_Net`)."""
    import keras

    def usable(v):
        if v is None or not callable(v) or isinstance(v, (keras.layers.Layer, StandIn)):
            return False
        return not (inspect.isclass(v) and not issubclass(v, keras.Model))

    names = list(req.get("builders", []))
    seen = set()
    for name in names:
        if usable(g.get(name)):
            seen.add(name)
            yield name, g[name]
    wanted = {_norm(n) for n in names}
    for k, v in list(g.items()):
        if k not in seen and not k.startswith("__") and _norm(k) in wanted and usable(v):
            yield k, v


def _model_in(result, keras):
    if isinstance(result, keras.Model):
        return result
    if isinstance(result, (list, tuple)):
        return next((x for x in result if isinstance(x, keras.Model)), None)
    if isinstance(result, dict):
        return next((x for x in result.values() if isinstance(x, keras.Model)), None)
    return None


def _def_source(tracer: Tracer, fn):
    try:
        target = fn if inspect.isfunction(fn) else fn.__init__
        code = target.__code__
        if tracer.is_student_file(code.co_filename):
            return {"file": tracer.rel(code.co_filename), "line": code.co_firstlineno}
    except Exception:
        pass
    return None


def _size(m) -> int:
    try:
        return int(m.count_params())
    except Exception:
        return 0


def find_model(g: dict, req: dict, tracer: Tracer, failures=()):
    """(model, found, candidates): the object graded and how it was obtained.

    In order: an object bound to one of the assignment's names; one of its
    builders, called (with derived arguments when it has required parameters);
    the largest model among the globals; the largest model the code constructed
    without keeping it (returned from main()). Models constructed by a statement
    that then failed while building are fragments of that failure, not candidates.
    A builder that raises raises here: that is the model's construction failing."""
    import keras

    candidates = []
    for k, v in g.items():
        if k.startswith("__") or isinstance(v, (StandIn, types.ModuleType)):
            continue
        if isinstance(v, keras.Model):
            candidates.append(f"{k} (keras.Model)")
        elif isinstance(v, keras.layers.Layer):
            candidates.append(f"{k} (layer)")
        elif inspect.isfunction(v) or inspect.isclass(v):
            candidates.append(f"{k} ({'class' if inspect.isclass(v) else 'function'})")
    if req.get("task"):
        model, found = task_model(g, req, tracer)
        return model, found, candidates
    for name in req.get("objects", []):
        v = g.get(name)
        if isinstance(v, keras.Model):
            return v, {"how": "object", "name": name, "call": None, "source": tracer.ctor.get(id(v))}, candidates
    for name, v in builder_candidates(g, req):
        try:
            args, kwargs, text = builder_call(name, v, req)
        except NoValue as e:
            candidates.append(f"{name}() needs a value for `{e.args[0]}` that the grader cannot derive")
            continue
        found = {"how": "builder", "name": name, "call": text, "source": _def_source(tracer, v)}
        tracer.attempt = found
        m = v(*args, **kwargs)
        model = _model_in(m, keras)
        if model is None and (args or kwargs):
            # a builder that returns its output tensors: wrap them with the Input it was given
            given = [x for x in list(args) + list(kwargs.values()) if isinstance(x, keras.KerasTensor)]
            outs = tracer.flat_tensors(m) if m is not None else []
            if given and outs and all(isinstance(o, keras.KerasTensor) for o in outs):
                model = keras.Model(given[0], m)
                found["wrapped"] = True
        if model is not None:
            return model, found, candidates
    tracer.attempt = None
    models = [(k, v) for k, v in g.items() if isinstance(v, keras.Model)]
    if models:
        k, v = max(models, key=lambda kv: _size(kv[1]))
        return v, {"how": "global", "name": k, "call": None, "source": tracer.ctor.get(id(v))}, candidates
    broken = {i for f in failures if f.get("build_like") for i in f["stmts"]}  # (a statement ends where it raised)
    made = [r for r in tracer.models if r["stmt"] >= 0 and r["stmt"] not in broken]
    if made:
        best = max(made, key=lambda r: _size(r["model"]))
        m = best["model"]
        return m, {"how": "constructed", "name": str(getattr(m, "name", type(m).__name__))[:120],
                   "call": None, "source": best["source"]}, candidates
    return None, None, candidates


def functional_of(obj):
    """The functional graph behind a model or layer (a Sequential's own), or None."""
    fn = getattr(obj, "_functional", None)
    if fn is None and hasattr(obj, "_operations") and getattr(obj, "inputs", None):
        fn = obj
    return fn if fn is not None and getattr(fn, "outputs", None) else None


def retrace_functional(fn, tracer: Tracer):
    """Run a functional model's graph again, layer by layer, on fresh inputs
    (nested functional models are walked into, not called whole, so that their
    layers are recorded too); returns (inputs, outputs) ids."""
    import keras

    def op_fn(op):
        inner = functional_of(op)
        if inner is None:
            return op
        return lambda *a, **k: inner._run_through_graph(tracer.flat_tensors(a[:1]), operation_fn=op_fn)

    tracer.reset()
    tracer.called = set()  # only this run counts for the check that follows it
    fresh = [keras.Input(batch_shape=tuple(t.shape), dtype=t.dtype) for t in tracer.flat_tensors(fn.inputs)]
    out = fn._run_through_graph(fresh, operation_fn=op_fn)
    return [tracer.tid(t) for t in fresh], [tracer.tid(t) for t in tracer.flat_tensors(out)]


def trace_model(model, tracer: Tracer, req: dict):
    """Fill the tracer with the model's graph; return (inputs, outputs) ids."""
    import keras

    # The submission ran in this process: it may have undone the hooks, or
    # switched the recording off, before building its model. Then the model is
    # traced again from a fresh input, with the hooks back in place, so that
    # it is graded as what it is (without the lines the hooks would have seen).
    undone = tracer.restore_hooks()
    fn = functional_of(model)
    if fn is not None:
        missed = tracer.unrecorded(fn)
        if not undone and not missed:
            ins = [tracer.tid(t) for t in tracer.flat_tensors(fn.inputs)]
            outs = [tracer.tid(t) for t in tracer.flat_tensors(fn.outputs)]
            return ins, outs
        tracer.notes.append({"kind": "retraced", "call": ", ".join(undone) or f"{len(missed)} calls unrecorded",
                             "source": None})
        ins, outs = retrace_functional(fn, tracer)
        left = tracer.unrecorded(fn)
        if left:  # a call that still escapes the hooks: grade nothing rather than part of a model
            raise RuntimeError(f"the submission kept the tracer from recording its model "
                               f"({len(left)} layer calls, e.g. {type(left[0]).__name__}, unrecorded)")
        return ins, outs
    if undone:
        tracer.notes.append({"kind": "retraced", "call": ", ".join(undone), "source": None})
    # Subclassed (or unbuilt Sequential): call it on a symbolic input.
    tracer.reset()
    shape = tuple(req["input_shape"])
    inp = keras.Input(shape=shape, name="data")
    out = model(inp)
    fn = getattr(model, "_functional", None)
    if fn is not None and getattr(fn, "outputs", None):
        return [tracer.tid(t) for t in tracer.flat_tensors(fn.inputs)], [tracer.tid(t) for t in tracer.flat_tensors(fn.outputs)]
    return [tracer.tid(inp)], [tracer.tid(t) for t in tracer.flat_tensors(out)]


def input_sources(model, tracer: Tracer):
    """Where each model input was created (keras.Input / InputLayer), for findings at `data`."""
    out = []
    fn = getattr(model, "_functional", None) or model
    for t in tracer.flat_tensors(getattr(fn, "inputs", None) or []):
        hist = getattr(t, "_keras_history", None)
        op = getattr(hist, "operation", None) if hist is not None else None
        out.append(tracer.ctor.get(id(op)) if op is not None else None)
    return out


def probe_specs(req: dict) -> list:
    """The block functions to probe (the assignment's, see Assignment.probe_specs)."""
    return list(req.get("probes") or [])


def find_function(g: dict, names) -> tuple:
    """(name, object, "function" | "layer") of the first of ``names`` the student defined."""
    import keras

    for name in names:
        v = g.get(name)
        if v is None or isinstance(v, StandIn):
            continue
        if inspect.isclass(v) and issubclass(v, keras.layers.Layer):
            return name, v, "layer"
        if inspect.isfunction(v):
            return name, v, "function"
    return None, None, None


def _scalar_like(params, rest, n) -> bool:
    """The first ``n`` parameters after the input take numbers: none has a string or
    tuple default, none is named like a name."""
    by = {p.name: p for p in params}
    for nm in rest[:n]:
        d = by[nm].default
        if isinstance(d, (str, tuple, list)) or any(k in nm.lower() for k in ("name", "prefix", "scope")):
            return False
    return True


def _signature_fits(sig: dict, params, rest) -> bool:
    args = sig["args"]
    if len(rest) < len(args):
        return False
    for pattern, nm in zip(sig.get("match") or (), rest):
        if not re.search(pattern, nm, re.I):
            return False
    return not sig.get("scalars") or _scalar_like(params, rest, len(args))


def run_probe(name, obj, kind, tracer: Tracer, spec: dict):
    """Call a block function alone on a fresh input with the spec's argument values
    (distinct, so that each filter count names its argument), recording its graph."""
    import keras

    try:
        target = obj.__init__ if kind == "layer" else obj
        sig = inspect.signature(target)
        params = [
            p for p in sig.parameters.values()
            if p.name != "self" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return {"name": name, "kind": kind, "block_kind": spec["kind"],
                "error": {"type": "SignatureError", "message": "cannot read the signature"}}
    names = [p.name for p in params]
    rest = names[1:] if kind == "function" else names

    def fill(names_after):
        # extra required parameters such as `name` or `prefix` get a string
        out = []
        for nm in names_after:
            p = next(q for q in params if q.name == nm)
            if p.default is not p.empty:
                break
            out.append("block_probe" if any(k in nm.lower() for k in ("name", "prefix", "scope", "id", "tag")) else None)
        return out

    chosen = next((x for x in spec["signatures"] if _signature_fits(x, params, rest)), None)
    if chosen is None:
        return {"name": name, "kind": kind, "block_kind": spec["kind"], "signature": None, "params": names,
                "error": {"type": "SignatureError", "message": f"unexpected signature ({', '.join(names)})"}}
    arguments, call_args = {}, []
    for nm, v in zip(rest, chosen["args"]):
        if isinstance(v, list):
            arguments.update({f"{nm}[{i}]": x for i, x in enumerate(v)})
            call_args.append(tuple(v))
        else:
            arguments[nm] = v
            call_args.append(v)
    call_args += fill(rest[len(chosen["args"]):])
    tracer.reset()
    shape = tuple(spec["input_shape"])
    inp = keras.Input(shape=shape, name="probe_input")
    result = {
        "name": name, "kind": kind, "block_kind": spec["kind"], "signature": chosen["name"], "params": names,
        "arguments": arguments, "input_channels": shape[-1], "input_size": shape[0],
        "inputs": [tracer.tid(inp)], "outputs": [], "error": None, "returned": [],
        "call_args": list(chosen["args"]),
    }
    try:
        if kind == "function":
            out = obj(inp, *call_args)
        else:
            out = obj(*call_args)(inp)
        result["outputs"] = [tracer.tid(t) for t in tracer.flat_tensors(out)]
        result["returned"] = _returned_numbers(out)
    except Exception as e:
        result["error"] = {"type": type(e).__name__, "message": str(e)[:2000], "source": tracer.student_source_from_tb(e.__traceback__)}
    result.update(tracer.snapshot())
    return result


def _returned_numbers(out) -> list:
    """The numbers a block function returns beside its tensor (dense_block's new filter count)."""
    if isinstance(out, (list, tuple)):
        return [int(x) if float(x).is_integer() else float(x) for x in out
                if isinstance(x, (int, float)) and not isinstance(x, bool)][:4]
    return []


def run_probes(g: dict, tracer: Tracer, req: dict) -> list:
    out = []
    for spec in probe_specs(req):
        try:
            name, obj, kind = find_function(g, spec.get("names") or ())
            if obj is not None:
                out.append(run_probe(name, obj, kind, tracer, spec))
        except Exception as e:
            out.append({"block_kind": spec.get("kind"), "error": {"type": type(e).__name__, "message": str(e)[:2000]}})
    return out


def task_model(g: dict, req: dict, tracer: Tracer):
    """A block-function task: the student's function called alone on the task's
    example input, as a model from that input to what it returns."""
    import keras

    task = req["task"]
    name, obj, kind = find_function(g, task.get("names") or ())
    if obj is None:
        return None, None
    args = [tuple(a) if isinstance(a, list) else a for a in task.get("args") or []]
    inp = keras.Input(shape=tuple(task["input_shape"]), name="data")
    text = f"{name}(Input(shape={tuple(task['input_shape'])!r}){''.join(', ' + repr(a) for a in args)})"
    found = {"how": "task", "name": name, "call": text, "source": _def_source(tracer, obj) if kind == "function" else None}
    tracer.attempt = found
    out = obj(inp, *args) if kind == "function" else obj(*args)(inp)
    tracer.returned = _returned_numbers(out)
    tensors = [t for t in tracer.flat_tensors(out) if isinstance(t, keras.KerasTensor)]
    if not tensors:
        raise TypeError(f"{name}() returned no tensor")
    return keras.Model(inp, tensors[0] if len(tensors) == 1 else tensors), found


# -- from the run to the trace --------------------------------------------------------------


def _partial(nodes, aliases, mark=None, alias_mark=None) -> dict:
    return {"nodes": list(nodes[:mark] if mark is not None else nodes),
            "aliases": list(aliases[:alias_mark] if alias_mark is not None else aliases),
            "inputs": [], "outputs": [], "partial": True}


def _public(f: dict) -> dict:
    """A statement failure as the trace reports it."""
    out = {k: f.get(k) for k in ("type", "message", "source", "line", "count", "caused_by", "role")}
    if f.get("cause"):
        out["cause"] = f["cause"]
    return out


def _as_build_error(f: dict) -> dict:
    return {k: f[k] for k in ("type", "message", "phase", "source", "traceback", "cause", "module") if k in f} | {"phase": "build"}


def grade_script(run: Script, g: dict, req: dict, tracer: Tracer, result: dict):
    """Find the model among what the script left, decide which failure (if any)
    was the model's own construction, and fill ``result``."""
    failures = link_failures(run.failures)
    build = None  # the error of the model's construction
    graph = None
    try:
        tracer.attempt = None
        mark = len(tracer.nodes)
        model, found, candidates = find_model(g, req, tracer, failures)
        result["found"] = found
        result["candidates"] = candidates
        if model is not None:
            ins, outs = trace_model(model, tracer, req)
            inside = None
            if found["how"] != "builder":
                # a statement that failed while building this very network (it holds
                # tensors of its graph): the network is incomplete, the build failed
                used = graph_tids(ins, outs, run.nodes, run.aliases) if any(f["build_like"] for f in failures) else set()
                inside = next((f for f in failures if f["build_like"] and f["tids"] & used), None)
            if inside is not None:
                inside["role"] = "build"
                build = _as_build_error(inside)
                graph = _partial(run.nodes, run.aliases, inside["mark"], inside["alias_mark"])
            else:
                graph = tracer.snapshot()
                graph["inputs"] = ins
                graph["outputs"] = outs
                graph["input_sources"] = input_sources(model, tracer)
                graph["model_class"] = type(model).__name__
                try:
                    graph["total_params"] = int(model.count_params())
                except Exception:
                    graph["total_params"] = None
                result["status"] = "ok"
        else:
            first = next((f for f in failures if f["build_like"]), None)
            if first is not None:
                first["role"] = "build"
                build = _as_build_error(first)
                graph = _partial(run.nodes, run.aliases, first["mark"], first["alias_mark"])
            else:
                result["status"] = "no_model"
    except Exception as e:  # a builder, or the symbolic call of a subclassed model, failed
        build = error_record(e, tracer, "build")
        if tracer.attempt is not None:
            result["found"] = tracer.attempt
        nodes = tracer.nodes[mark:] if tracer.nodes is run.nodes else tracer.nodes
        graph = _partial(nodes if nodes else run.nodes, tracer.aliases if nodes else run.aliases)
        for f in failures:  # the script's own call of the same builder failed the same way
            if f["role"] == "script" and (f["type"], f["source"]) == (build["type"], build["source"]):
                f["role"] = "build"
    if build is not None:
        k, missing = name_cause(build, failures)
        if k is not None and failures[k]["role"] == "script":
            # the model uses a name a failed statement (an import) should have defined
            cause = failures[k]
            cause["role"] = "cause"
            build["cause"] = {"kind": "statement", "name": missing, "type": cause["type"],
                              "message": cause["message"], "used": build.get("source")}
            build["source"] = cause["source"]
            if cause.get("module"):
                build["module"] = cause["module"]
        result["error"] = {k: v for k, v in build.items() if k != "missing"}
        result["status"] = "failed"
        at = next((i for i, f in enumerate(failures) if f["role"] == "build"), None)
        if at is not None:
            for f in failures[at + 1:]:
                # what failed while building after the build broke follows from it
                if f["build_like"] and f["role"] == "script" and f["caused_by"] is None:
                    f["caused_by"] = at
    if graph is not None:
        result["graph"] = graph
    result["statement_errors"] = [_public(f) for f in failures[:200]]
    if getattr(tracer, "returned", None) is not None:
        result["returned"] = tracer.returned
    # the block functions, each called alone
    probes = run_probes(g, tracer, req)
    if probes:
        result["probe"] = probes[0]
        result["probes"] = probes


# -- main ------------------------------------------------------------------------------------


def take_seal(path):
    """The run's seal: read the key file, delete it, and keep the key only
    inside an HMAC object (the bytes read are zeroed). None without a key file."""
    if not path:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    key = bytearray(SEAL_BYTES)
    try:
        n = os.readv(fd, [key])
    finally:
        os.close(fd)
        try:
            os.unlink(path)
        except OSError:
            pass
    try:
        return _hmac_new(key, digestmod="sha256") if n == SEAL_BYTES else None
    finally:
        key[:] = bytes(SEAL_BYTES)


def main(argv):
    t0 = time.time()
    with open(argv[1], encoding="utf-8") as f:
        req = json.loads(f.read())
    # First of all, long before the student's first line: the key leaves the disk.
    seal = take_seal(req.get("seal_file"))
    out_fd = int(req.get("result_fd", 3))
    result: dict = {"schema": TRACE_SCHEMA, "status": "failed", "error": None, "notes": [], "found": None,
                    "candidates": [], "graph": None, "probe": None, "timings": {}}

    def emit():
        data = _dumps(result, default=_jsonable).encode("utf-8")
        if seal is not None:
            mac = seal.copy()
            mac.update(data)
            data = SEAL_PREFIX + mac.hexdigest().encode("ascii") + b"\n" + data
        try:
            with _fdopen(out_fd, "wb", closefd=True) as f:
                f.write(data)
        except OSError:
            pass

    entry = os.path.realpath(req["entry"])
    root = os.path.realpath(req.get("root", os.path.dirname(entry)))
    os.chdir(os.path.dirname(entry))
    for p in req.get("sys_path", []):
        sys.path.append(p)
    for p in (os.path.dirname(entry), root):
        if p not in sys.path:
            sys.path.insert(0, p)
    tracer = Tracer(root, __file__)
    try:
        import keras  # noqa: F401
        try:
            import tensorflow  # noqa: F401  (so tf.keras datasets get their stand-ins too)
        except Exception:
            pass
    except Exception as e:
        result["error"] = {"type": type(e).__name__, "message": f"cannot import Keras: {e}", "source": None, "phase": "setup"}
        emit()
        return
    result["timings"]["import"] = round(time.time() - t0, 3)
    tracer.install()
    install_stubs(tracer)

    _STATE["tracer"] = tracer
    sys.meta_path.append(GraderImporter(tracer, req.get("never_stub", [])))
    install_import_guard(tracer)
    try:
        install_legacy(tracer)
    except Exception:  # a Keras whose internals moved: run the code without the Keras 2 mappings
        pass

    g = {"__name__": "__main__", "__file__": entry, "__builtins__": __builtins__}
    run = run_script(tracer, entry, g)
    result["timings"]["run"] = round(time.time() - t0, 3)
    if run.syntax is not None:
        e = run.syntax
        result["error"] = {"type": type(e).__name__, "message": f"{e.msg}", "phase": "compile",
                           "source": {"file": tracer.rel(e.filename or entry), "line": e.lineno or 1}}
    else:
        grade_script(run, g, req, tracer, result)
    result["notes"] = tracer.notes[:200]
    result["overflow"] = tracer.overflow
    result["timings"]["total"] = round(time.time() - t0, 3)
    emit()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    _exit(0)


if __name__ == "__main__":
    main(sys.argv)
