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

import inspect
import json
import os
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
PROBE_FILTERS = (11, 13, 17, 19, 23, 29)
PROBE_CHANNELS = 31
PROBE_SIZE = 14
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
        try:
            f = os.path.realpath(filename)
        except Exception:
            return False
        return f.startswith(self.root) and f != self.child_file

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
            if x is not None and hasattr(x, "shape") and hasattr(x, "dtype"):
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

        def layer_init(self_, *a, **k):
            if not tracer.busy:
                try:
                    tracer.ctor[id(self_)] = tracer.student_source()
                    tracer.keep.append(self_)
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

    notes = tracer.notes

    def note(what):
        src = tracer.student_source()
        notes.append({"kind": "training_skipped", "call": what, "source": src})

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
        notes.append({"kind": "skipped", "call": "keras.utils.plot_model", "source": tracer.student_source()})
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

    # tensorflow_datasets: a stand-in module, whether or not the real one is installed
    tfds = types.ModuleType("tensorflow_datasets")

    def tfds_load(name="", *a, **kw):
        note("tensorflow_datasets.load")
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((np.zeros((8, 32, 32, 3), "float32"), np.zeros((8,), "int64")))
        split = kw.get("split")
        out = [ds for _ in split] if isinstance(split, (list, tuple)) else (ds if split else {"train": ds, "test": ds})
        if kw.get("with_info"):
            info = types.SimpleNamespace(features={"label": types.SimpleNamespace(num_classes=10)}, splits={})
            return out, info
        return out

    tfds.load = tfds_load
    tfds.builder = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("tensorflow_datasets is not available while grading"))
    sys.modules["tensorflow_datasets"] = tfds


# -- finding the model and the inception function ---------------------------------------


def find_model(g: dict, req: dict):
    import keras

    candidates = []
    for k, v in g.items():
        if k.startswith("__"):
            continue
        if isinstance(v, keras.Model):
            candidates.append(f"{k} (keras.Model)")
        elif isinstance(v, keras.layers.Layer):
            candidates.append(f"{k} (layer)")
        elif inspect.isfunction(v) or inspect.isclass(v):
            candidates.append(f"{k} ({'class' if inspect.isclass(v) else 'function'})")
    for name in req.get("objects", []):
        v = g.get(name)
        if isinstance(v, keras.Model):
            return v, {"how": "object", "name": name}, candidates, None
    for name in req.get("builders", []):
        v = g.get(name)
        if v is None or not callable(v) or isinstance(v, keras.layers.Layer):
            continue
        if inspect.isclass(v) and not issubclass(v, keras.Model):
            continue
        try:
            m = v()
        except TypeError as e:
            if "argument" in str(e):
                try:
                    shape = tuple(req["input_shape"])
                    m = v(shape)
                except Exception:
                    continue
            else:
                raise
        if isinstance(m, keras.Model):
            return m, {"how": "builder", "name": name}, candidates, None
    models = [(k, v) for k, v in g.items() if isinstance(v, keras.Model)]
    if models:

        def size(kv):
            try:
                return kv[1].count_params()
            except Exception:
                return 0

        k, v = max(models, key=size)
        return v, {"how": "largest", "name": k}, candidates, None
    return None, None, candidates, None


def is_functional(model):
    return hasattr(model, "_functional") and model._functional is not None or (
        hasattr(model, "_operations") and getattr(model, "inputs", None) is not None
    )


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
        if not undone and not tracer.unrecorded(fn):
            ins = [tracer.tid(t) for t in tracer.flat_tensors(fn.inputs)]
            outs = [tracer.tid(t) for t in tracer.flat_tensors(fn.outputs)]
            return ins, outs
        missed = len(tracer.unrecorded(fn))
        tracer.notes.append({"kind": "retraced", "call": ", ".join(undone) or f"{missed} calls unrecorded",
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


def find_inception(g: dict, req: dict):
    import keras

    for name in req.get("inception_names", []):
        v = g.get(name)
        if v is None:
            continue
        if inspect.isclass(v) and issubclass(v, keras.layers.Layer):
            return name, v, "layer"
        if inspect.isfunction(v):
            return name, v, "function"
    return None, None, None


def _six_like(params, rest) -> bool:
    """Six filter parameters: the first six after the input have no string or
    tuple default and are not named like a name."""
    by = {p.name: p for p in params}
    for nm in rest[:6]:
        d = by[nm].default
        if isinstance(d, (str, tuple, list)) or any(k in nm.lower() for k in ("name", "prefix", "scope")):
            return False
    return True


def run_probe(name, obj, kind, tracer: Tracer, req: dict):
    import keras

    try:
        target = obj.__init__ if kind == "layer" else obj
        sig = inspect.signature(target)
        params = [
            p for p in sig.parameters.values()
            if p.name != "self" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return {"name": name, "kind": kind, "error": {"type": "SignatureError", "message": "cannot read the signature"}}
    names = [p.name for p in params]
    vals = list(PROBE_FILTERS)
    if kind == "function":
        rest = names[1:]
    else:
        rest = names

    def fill(names_after):
        # extra required parameters such as `name` or `prefix` get a string
        out = []
        for nm in names_after:
            p = next(q for q in params if q.name == nm)
            if p.default is not p.empty:
                break
            out.append("inception_probe" if any(k in nm.lower() for k in ("name", "prefix", "scope", "id", "tag")) else None)
        return out

    if len(rest) >= 6 and _six_like(params, rest):
        signature = "six"
        arg_names = rest[:6]
        call_args = vals + fill(rest[6:])
    elif len(rest) >= 1:
        signature = "tuple"
        arg_names = [f"{rest[0]}[{i}]" for i in range(6)]
        call_args = [tuple(vals)] + fill(rest[1:])
    else:
        return {"name": name, "kind": kind, "signature": None, "params": names,
                "error": {"type": "SignatureError", "message": f"unexpected signature ({', '.join(names)})"}}
    tracer.reset()
    inp = keras.Input(shape=(PROBE_SIZE, PROBE_SIZE, PROBE_CHANNELS), name="probe_input")
    result = {
        "name": name, "kind": kind, "signature": signature, "params": names,
        "arguments": {a: v for a, v in zip(arg_names, vals)},
        "input_channels": PROBE_CHANNELS, "input_size": PROBE_SIZE,
        "inputs": [tracer.tid(inp)], "outputs": [], "error": None,
    }
    try:
        if kind == "function":
            out = obj(inp, *call_args)
        else:
            out = obj(*call_args)(inp)
        result["outputs"] = [tracer.tid(t) for t in tracer.flat_tensors(out)]
    except Exception as e:
        result["error"] = {"type": type(e).__name__, "message": str(e)[:2000], "source": tracer.student_source_from_tb(e.__traceback__)}
    result.update(tracer.snapshot())
    return result


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

    g = {"__name__": "__main__", "__file__": entry, "__builtins__": __builtins__}
    src_text = open(entry, encoding="utf-8", errors="replace").read()
    phase = "compile"
    exc = None
    try:
        code = compile(src_text, entry, "exec")
        phase = "run"
        sys.argv = [entry]
        exec(code, g)
    except SyntaxError as e:
        exc = e
        result["error"] = {"type": type(e).__name__, "message": f"{e.msg}", "phase": phase,
                           "source": {"file": tracer.rel(e.filename or entry), "line": e.lineno or 1}}
    except SystemExit:
        pass
    except BaseException as e:  # noqa: BLE001 - anything the student's code raises is a finding
        exc = e
        result["error"] = {"type": type(e).__name__, "message": str(e)[:4000], "phase": phase,
                           "source": tracer.student_source_from_tb(e.__traceback__),
                           "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]}
        if isinstance(e, ModuleNotFoundError):
            result["error"]["module"] = e.name
    result["timings"]["run"] = round(time.time() - t0, 3)
    main_graph = tracer.snapshot()

    model = None
    if not isinstance(exc, SyntaxError):
        try:
            model, found, candidates, _ = find_model(g, req)
            result["found"] = found
            result["candidates"] = candidates
            if model is not None:
                ins, outs = trace_model(model, tracer, req)
                graph = tracer.snapshot()
                graph["inputs"] = ins
                graph["outputs"] = outs
                graph["input_sources"] = input_sources(model, tracer)
                graph["model_class"] = type(model).__name__
                try:
                    graph["total_params"] = int(model.count_params())
                except Exception:
                    graph["total_params"] = None
                result["graph"] = graph
                if exc is None:
                    result["status"] = "ok"
                else:
                    # the script failed after the model was built (plotting, saving...)
                    result["status"] = "ok"
                    result["error"]["after_model"] = True
            elif exc is None:
                result["status"] = "no_model"
        except Exception as e:  # building through a builder or a symbolic call failed
            result["error"] = {"type": type(e).__name__, "message": str(e)[:4000], "phase": "build",
                               "source": tracer.student_source_from_tb(e.__traceback__),
                               "traceback": "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]}
            exc = e
        if result["graph"] is None:
            part = tracer.snapshot()
            if not part["nodes"]:
                part = main_graph
            part["inputs"] = []
            part["outputs"] = []
            part["partial"] = True
            result["graph"] = part
        # the probe
        try:
            name, obj, kind = find_inception(g, req)
            if obj is not None:
                result["probe"] = run_probe(name, obj, kind, tracer, req)
        except Exception as e:
            result["probe"] = {"error": {"type": type(e).__name__, "message": str(e)[:2000]}}
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
