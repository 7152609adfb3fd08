"""The tracer's hooks into Keras: ``Layer.__call__``, ``Layer.__init__``,
``Operation.symbolic_call`` and ``backend.compute_output_spec`` replaced by
closures that record each call around Keras's own (``Tracer.begin``/``end``),
and put back when the submission undid them.
"""

from __future__ import annotations

from .tracer import Tracer


def install(tracer: Tracer):
    """Put the tracer's hooks in place: Layer.__call__, Layer.__init__,
    Operation.symbolic_call and compute_output_spec, each around Keras's own."""
    from keras.src import backend as kbackend
    from keras.src.layers.layer import Layer
    from keras.src.ops.operation import Operation

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
            captured["in"] = {tracer.tid(x) for x in inner_in}
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
                # a call that returns its input (a pass-through layer) makes a new
                # tensor, the layer's output: the same as its input, it would be a loop
                if inner not in captured.get("in", ()):
                    tracer.aliases.append([tracer.tid(t), inner])
        return res

    tracer.hooks = [(Layer, "__call__", layer_call), (Operation, "symbolic_call", symbolic_call),
                    (Layer, "__init__", layer_init), (kbackend, "compute_output_spec", compute_output_spec)]
    for owner, attr, hook in tracer.hooks:
        setattr(owner, attr, hook)


def restore(tracer: Tracer) -> list[str]:
    """Put back what the submission undid: hooks removed or replaced, the
    recording switched off, Keras imported afresh (its new classes get
    hooks of their own). Returns what was found out of place."""
    from keras.src import backend as kbackend
    from keras.src.layers.layer import Layer
    from keras.src.ops.operation import Operation

    wrong = []
    if tracer.busy:
        wrong.append("recording switched off")
        tracer.busy = False
    if [o for o, _, _ in tracer.hooks] != [Layer, Operation, Layer, kbackend]:
        wrong.append("Keras imported again")
        install(tracer)
        return wrong
    for owner, attr, hook in tracer.hooks:
        if getattr(owner, attr, None) is not hook:
            wrong.append(f"{getattr(owner, '__name__', owner)}.{attr}")
            setattr(owner, attr, hook)
    return wrong
