"""Keras 2 and old tf.keras spellings, read as their Keras 3 equivalents.

Old tutorials import from Keras 2 module paths that Keras 3 removed
(``keras.layers.convolutional``, ``keras.engine``...): each resolves to the
Keras 3 modules holding the same names (``LegacyModule``; which imports get one
is ``importer``'s decision). Keras 2 arguments and behaviour that Keras 3
removed are given back where the meaning is unambiguous (``install_legacy``):
``Conv2D(filters=64.0)``, ``AveragePooling2D()`` without a size, ``lr=``,
``Model(input=, output=)``, ``x.shape[i].value``, ``get_shape().as_list()`` and
names Keras 3 moved. Each use is noted (``legacy_api``) at the student's line.
"""

from __future__ import annotations

import importlib
import math
import sys
import types

from . import SHOWN_MODULE
from .standins import _STATE
from .tracer import Tracer

# Each Keras 2 module path resolves to the Keras 3 modules holding the same names
# (searched in order); "" is the keras package itself.
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

    __module__ = SHOWN_MODULE

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


# -- Keras 2 behaviour that Keras 3 removed -------------------------------------------------


class _LegacyDim(int):
    """A shape dimension with TF1's ``.value``."""

    __module__ = SHOWN_MODULE

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

    __module__ = SHOWN_MODULE

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

    _legacy_names(tracer)


#: module name -> the lookups ``fallback`` gave it, asked in turn
_LOOKUPS: dict = {}


def fallback(tracer: Tracer, modname: str, lookup):
    """Names a module lacks, looked up by ``lookup`` (name -> (value, what it is now) or
    None) when the student's code asks for them; each use is noted. A module given
    several lookups asks them in the order given (one ``__getattr__``, so that the
    frame asking is the student's for each)."""
    try:
        mod = importlib.import_module(modname)
    except Exception:
        return
    if modname in _LOOKUPS:
        _LOOKUPS[modname].append(lookup)
        return
    lookups = _LOOKUPS[modname] = [lookup]
    previous = mod.__dict__.get("__getattr__")

    def __getattr__(name):
        if not name.startswith("__") and tracer.is_student_file(sys._getframe(1).f_code.co_filename):
            for look in lookups:
                hit = look(name)
                if hit is not None:
                    tracer.legacy("module", f"{modname}.{name}", hit[1])
                    return hit[0]
        if previous is not None:
            return previous(name)
        raise AttributeError(f"module {modname!r} has no attribute {name!r}")

    mod.__getattr__ = __getattr__


def _legacy_names(tracer: Tracer):
    """Names Keras 3 moved: keras.backend.int_shape (tf.keras's legacy backend has the
    Keras 2 functions), ImageDataGenerator, _obtain_input_shape, layers.experimental."""

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

    fallback(tracer, "keras.backend", from_module("keras._tf_keras.keras.backend"))
    fallback(tracer, "keras.preprocessing.image", from_module("keras._tf_keras.keras.preprocessing.image"))
    fallback(tracer, "keras.applications.imagenet_utils",
             from_module("keras.src.applications.imagenet_utils", {"_obtain_input_shape": "obtain_input_shape"}))
    experimental = LegacyModule("keras.layers.experimental", ("keras.layers",))
    experimental.preprocessing = LegacyModule("keras.layers.experimental.preprocessing", ("keras.layers",))
    for layers_mod in ("keras.layers", "keras._tf_keras.keras.layers"):
        fallback(tracer, layers_mod, lambda name: (experimental, "keras.layers") if name == "experimental" else None)
