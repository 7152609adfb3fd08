"""The model graded, and its graph.

``find_model`` decides which object is graded and how it was obtained: an
object bound to one of the assignment's names, one of its builders called (with
arguments derived from the parameters' names), the largest model among the
globals, or the largest one the code constructed without keeping it; for a
block-function task, the function called alone (``task_model``). ``trace_model``
then makes sure the tracer holds that model's whole graph, tracing it again when
the submission undid the hooks.
"""

from __future__ import annotations

import inspect
import types

from . import hooks
from .probes import _returned_numbers, find_function
from .standins import StandIn
from .tracer import Tracer

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
REG_NAMES = {"reg", "weight_decay", "wd", "l2", "l2_reg", "reg_lambda", "l2_weight", "decay", "lambda_reg", "reg_strength"}
REGULARIZER_NAMES = {"regularizer", "kernel_regularizer", "reg_fn"}
#: a builder written as a static or class method (``class GoogleNet: @staticmethod def build(...)``)
METHOD_NAMES = ("build", "build_model", "create", "create_model", "get_model", "make_model", "model", "network")


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
        elif n in ("channels", "in_channels", "input_channels", "img_channels", "c", "depth", "nb_channels", "chans"):
            value, text = shape[2], repr(shape[2])
        elif n in REG_NAMES:  # a weight decay: it does not change the network
            value, text = 0.0002, "0.0002"
        elif n in REGULARIZER_NAMES:
            value, text = None, "None"
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
            seen.add(k)
            yield k, v
    # a class holding the builder as a static or class method: one named as the
    # assignment's builders or objects first, then any class with such a `build`
    objects = wanted | {_norm(n) for n in req.get("objects", [])}
    classes = [(k, v) for k, v in list(g.items()) if inspect.isclass(v) and not k.startswith("__")
               and not issubclass(v, (keras.Model, keras.layers.Layer)) and not isinstance(v, StandIn)]
    classes.sort(key=lambda kv: _norm(kv[0]) not in objects)
    for k, cls in classes:
        for meth in METHOD_NAMES:
            try:
                raw = inspect.getattr_static(cls, meth)
            except AttributeError:
                continue
            if isinstance(raw, (staticmethod, classmethod)) and (_norm(k) in objects or meth == "build"):
                yield f"{k}.{meth}", getattr(cls, meth)
                break


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
        target = fn if inspect.isfunction(fn) else fn.__func__ if inspect.ismethod(fn) else fn.__init__
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
        pass
    try:  # a Sequential never called whole (its layers run one by one) is not built, its layers are
        return sum(int(w.numpy().size) for w in m.weights)
    except Exception:
        return 0


def _outermost(records: list) -> list:
    """The constructed models that are no other constructed model's part: a
    Sequential of stages whose blocks subclass keras.Model is one model, not
    one per stage and block (the d2l.ai style)."""
    inner = set()
    for r in records:
        try:
            inner.update(id(x) for x in r["model"]._flatten_layers(include_self=False))
        except Exception:
            continue
    return [r for r in records if id(r["model"]) not in inner] or records


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
        if model is None and m is not None:
            # a builder that returns its output tensors (a tuple of them, maybe with its
            # Input): wrap them with the Input it was given, or the one they come from
            given = [x for x in list(args) + list(kwargs.values()) if isinstance(x, keras.KerasTensor)]
            outs = tracer.flat_tensors(m)
            if outs and all(isinstance(o, keras.KerasTensor) for o in outs):
                outs = [o for o in outs if not _is_input(o)] or outs
                ins = given[:1] or graph_inputs(outs)
                if ins and (args or kwargs or not given):
                    model = keras.Model(ins[0] if len(ins) == 1 else ins, outs[0] if len(outs) == 1 else outs)
                    found["wrapped"] = True
        if model is not None:
            return model, found, candidates
    tracer.attempt = None
    models = [(k, v) for k, v in g.items() if isinstance(v, keras.Model)]
    if models:
        k, v = max(models, key=lambda kv: _size(kv[1]))
        return v, {"how": "global", "name": k, "call": None, "source": tracer.ctor.get(id(v))}, candidates
    broken = {i for f in failures if f.get("build_like") for i in f["stmts"]}  # (a statement ends where it raised)
    made = _outermost([r for r in tracer.models if r["stmt"] >= 0 and r["stmt"] not in broken])
    if made:
        best = max(made, key=lambda r: _size(r["model"]))
        m = best["model"]
        return m, {"how": "constructed", "name": str(getattr(m, "name", type(m).__name__))[:120],
                   "call": None, "source": best["source"]}, candidates
    return (*never_wrapped(g, tracer), candidates)


def _is_input(t) -> bool:
    hist = getattr(t, "_keras_history", None)
    return hist is not None and type(hist.operation).__name__ == "InputLayer"


def graph_inputs(tensors) -> list:
    """The Input tensors the graph of ``tensors`` starts from, in the order met."""
    found, seen, todo = [], set(), list(reversed(list(tensors)))
    while todo and len(seen) < 200000:
        t = todo.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        hist = getattr(t, "_keras_history", None)
        if hist is None:
            continue
        nodes = getattr(hist.operation, "_inbound_nodes", None) or []
        node = nodes[hist.node_index] if hist.node_index < len(nodes) else None
        if node is None:
            continue
        if node.is_input:
            found.append(t)
        else:
            todo.extend(reversed(list(node.input_tensors)))
    return found


def never_wrapped(g: dict, tracer: Tracer):
    """(model, found) for a network built from an ``Input`` that the code never
    wrapped in a ``Model``: its terminal tensors (the globals holding tensors that
    no layer took as input) and the Inputs they come from, wrapped by the grader;
    (None, None) when the globals hold no such network."""
    import keras

    named = []  # (name, tensor) of every Keras tensor among the globals
    for k, v in list(g.items()):
        if k.startswith("__") or isinstance(v, (StandIn, types.ModuleType)):
            continue
        if isinstance(v, keras.KerasTensor):
            named.append((k, v))
        elif isinstance(v, (list, tuple)):
            named += [(f"{k}[{i}]", x) for i, x in enumerate(v[:64]) if isinstance(x, keras.KerasTensor)]
        elif isinstance(v, dict):
            named += [(f"{k}[{x!r}]", t) for x, t in list(v.items())[:64] if isinstance(t, keras.KerasTensor)]
    consumed = {t for n in tracer.nodes for t in n.get("inputs", [])}
    order = {}
    terminal = []
    for name, t in named:
        if _is_input(t) or not tracer.known(t) or id(t) in order:
            continue
        tid = tracer.tid(t)
        if tid in consumed:
            continue
        order[id(t)] = int(tid[1:].split("r")[0]) if tid[1:].split("r")[0].isdigit() else 0
        terminal.append((name, t))
    if not terminal:
        return None, None
    # the last tensor made first (the main output), then the others as made (the auxiliary heads)
    terminal.sort(key=lambda nt: order[id(nt[1])])
    terminal = terminal[-1:] + terminal[:-1]
    outs = [t for _, t in terminal]
    ins = graph_inputs(outs)
    if not ins:
        return None, None
    model = keras.Model(ins[0] if len(ins) == 1 else ins, outs[0] if len(outs) == 1 else outs)
    in_names = [next((k for k, v in named if v is t), None) or "Input" for t in ins]
    text = (f"Model({in_names[0] if len(in_names) == 1 else '[' + ', '.join(in_names) + ']'}, "
            f"{terminal[0][0] if len(terminal) == 1 else '[' + ', '.join(n for n, _ in terminal) + ']'})")
    hist = getattr(ins[0], "_keras_history", None)
    source = tracer.ctor.get(id(hist.operation)) if hist is not None else None
    found = {"how": "wrapped", "name": ", ".join(n for n, _ in terminal)[:200], "call": text[:2000],
             "source": source, "wrapped": True}
    return model, found


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


def functional_of(obj):
    """The functional graph behind a model or layer (a Sequential's own), or None."""
    fn = getattr(obj, "_functional", None)
    if fn is None and hasattr(obj, "_operations") and getattr(obj, "inputs", None):
        fn = obj
    return fn if fn is not None and getattr(fn, "outputs", None) else None


def unrecorded(tracer: Tracer, fn) -> list:
    """The operations of a functional model (and of the functional models
    inside it) whose call the tracer never recorded."""
    out, seen, todo = [], set(), [fn]
    while todo:
        f = todo.pop()
        for op in getattr(f, "_operations", None) or []:
            if id(op) in seen or type(op).__name__ == "InputLayer":
                continue
            seen.add(id(op))
            if id(op) not in tracer.called:
                out.append(op)
            inner = functional_of(op)
            if inner is not None:
                todo.append(inner)
    return out


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
    undone = hooks.restore(tracer)
    fn = functional_of(model)
    if fn is not None:
        missed = unrecorded(tracer, fn)
        if not undone and not missed:
            ins = [tracer.tid(t) for t in tracer.flat_tensors(fn.inputs)]
            outs = [tracer.tid(t) for t in tracer.flat_tensors(fn.outputs)]
            return ins, outs
        tracer.notes.append({"kind": "retraced", "call": ", ".join(undone) or f"{len(missed)} calls unrecorded",
                             "source": None})
        ins, outs = retrace_functional(fn, tracer)
        left = unrecorded(tracer, fn)
        if left:  # a call that still escapes the hooks: grade nothing rather than part of a model
            raise RuntimeError(f"the submission kept the tracer from recording its model "
                               f"({len(left)} layer calls, e.g. {type(left[0]).__name__}, unrecorded)")
        return ins, outs
    if undone:
        tracer.notes.append({"kind": "retraced", "call": ", ".join(undone), "source": None})
    # Subclassed (or unbuilt Sequential): call it on a symbolic input.
    tracer.reset()
    shape = tuple(req["input_shape"])
    seen = _built_shape(model)
    if seen is not None and seen[-1:] != shape[-1:]:
        # a Sequential never called whole whose layers the script ran one by one on
        # an input of other channels (the d2l.ai book's 96x96x1): its first layer
        # takes only those, so it is graded on the input it was made for
        shape = seen
    inp = keras.Input(shape=shape, name="data")
    if seen is not None:
        # its stages are built: called whole, Keras would run their graphs without
        # a layer call to record, so each layer is called in turn, into the stages
        out = _walk_layers(model, inp, tracer)
        return [tracer.tid(inp)], [tracer.tid(t) for t in tracer.flat_tensors(out)]
    out = model(inp)
    fn = getattr(model, "_functional", None)
    if fn is not None and getattr(fn, "outputs", None):
        return [tracer.tid(t) for t in tracer.flat_tensors(fn.inputs)], [tracer.tid(t) for t in tracer.flat_tensors(fn.outputs)]
    return [tracer.tid(inp)], [tracer.tid(t) for t in tracer.flat_tensors(out)]


def _walk_layers(model, x, tracer: Tracer):
    """Call a Sequential's layers in turn on ``x``, walking into the built
    functional graphs of nested stages so that every layer call is recorded."""

    def op_fn(op):
        inner = functional_of(op)
        if inner is None:
            return op
        return lambda *a, **k: inner._run_through_graph(tracer.flat_tensors(a[:1]), operation_fn=op_fn)

    for layer in model.layers:
        x = op_fn(layer)(x)
    return x


def _built_shape(model):
    """The input shape (without the batch) the first layer of an unbuilt
    Sequential was built for when the script called its layers one by one."""
    import keras

    if not isinstance(model, keras.Sequential) or model.built or not model.layers:
        return None
    got = (getattr(model.layers[0], "_build_shapes_dict", None) or {}).get("input_shape")
    if not isinstance(got, (tuple, list)) or len(got) < 2 or not all(isinstance(d, int) for d in got[1:]):
        return None
    return tuple(got[1:])


def input_sources(model, tracer: Tracer):
    """Where each model input was created (keras.Input / InputLayer), for findings at `data`."""
    out = []
    fn = getattr(model, "_functional", None) or model
    for t in tracer.flat_tensors(getattr(fn, "inputs", None) or []):
        hist = getattr(t, "_keras_history", None)
        op = getattr(hist, "operation", None) if hist is not None else None
        out.append(tracer.ctor.get(id(op)) if op is not None else None)
    return out
