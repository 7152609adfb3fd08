"""Keras 1 (2016-17) and Keras 2 spellings that Keras 3 refuses, read as Keras 3
where the meaning is unambiguous; each use is noted (``legacy_api``) at the
student's line, nothing is rewritten on disk.

- Keras 1 layer arguments: ``Convolution2D(nb_filter, nb_row, nb_col,
  subsample=, border_mode=, init=, W_regularizer=, b_regularizer=, bias=,
  dim_ordering=)``, ``MaxPooling2D(border_mode=)``, ``Dense(output_dim=)``,
  ``Dropout(p=)``, ``BatchNormalization(mode=0)``;
- Keras 1's ``merge([...], mode='concat', concat_axis=...)`` (and its other
  modes), which is also the Keras 2 module ``keras.layers.merge``;
- ``padding="SAME"`` in pooling layers (Keras 2 lower-cased it, Keras 3's
  pooling refuses it; its convolutions accept it);
- a ``/`` in a layer's name (``name="conv1/7x7_s2"``): Keras 3 refuses it, so
  Keras gets ``_`` in its place and the tracer keeps the name as written;
- ``K.image_dim_ordering()`` and ``K.set_image_dim_ordering('tf' | 'th')``.

Three positional numbers to a convolution (``Convolution2D(64, 7, 7)``) are
Keras 1's filters, rows and columns only when the call says it is Keras 1 code
(a Keras 1 keyword, or the Keras 1 name ``Convolution2D`` on its line); in
Keras 3 the third is the stride, and ``Conv2D(64, 3, 2)`` keeps that meaning.
"""

from __future__ import annotations

import linecache

from . import SHOWN_MODULE
from .legacy import LegacyModule, fallback
from .tracer import Tracer

_ORDERING = {"tf": "channels_last", "th": "channels_first", "default": None}
# Keras 1 keyword -> Keras 3 keyword, per kind of layer
_WEIGHTS = {"init": "kernel_initializer", "W_regularizer": "kernel_regularizer", "b_regularizer": "bias_regularizer",
            "W_constraint": "kernel_constraint", "b_constraint": "bias_constraint", "bias": "use_bias"}
_CONV = {"nb_filter": "filters", "subsample": "strides", "border_mode": "padding", "dim_ordering": "data_format",
         **_WEIGHTS}
_POOL = {"border_mode": "padding", "dim_ordering": "data_format"}
_DIM = {"dim_ordering": "data_format"}
_DENSE = {"output_dim": "units", **_WEIGHTS}
_DROPOUT = {"p": "rate"}
_BATCHNORM = {"beta_init": "beta_initializer", "gamma_init": "gamma_initializer"}
# Convolution2D's Keras 1 positional order after (nb_filter, nb_row, nb_col)
_CONV_POSITIONAL = ("init", "activation", "weights", "border_mode", "subsample", "dim_ordering", "W_regularizer",
                    "b_regularizer", "activity_regularizer", "W_constraint", "b_constraint", "bias")
_KERAS1_CONV_NAMES = ("Convolution2D(", "SeparableConvolution2D(")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _written_keras1_name(tracer: Tracer) -> bool:
    """Whether the student's line making this call names ``Convolution2D``."""
    import sys

    f = sys._getframe(1)
    while f is not None and not tracer.is_student_file(f.f_code.co_filename):
        f = f.f_back
    if f is None:
        return False
    line = linecache.getline(f.f_code.co_filename, f.f_lineno)
    return any(n in line for n in _KERAS1_CONV_NAMES)


def _rename(tracer: Tracer, cls_name: str, table: dict, k: dict):
    """Keras 1 keywords in ``k`` renamed in place (with their Keras 1 values read as Keras 3's)."""
    for old, new in table.items():
        if old not in k or new in k:
            continue
        v = k.pop(old)
        if old == "dim_ordering":
            if v not in _ORDERING:
                k[old] = v  # not a Keras 1 value: Keras 3 says what is wrong with it
                continue
            v = _ORDERING[v]
            tracer.legacy("argument", f"{cls_name}(dim_ordering=...)", "data_format='channels_last' | 'channels_first'")
        elif old == "border_mode" and str(v).lower() not in ("same", "valid"):
            k[old] = v  # 'full' has no Keras 3 equivalent
            continue
        else:
            tracer.legacy("argument", f"{cls_name}({old}=...)", f"{new}=...")
        k[new] = v.lower() if old == "border_mode" else v


def _wrap(cls, prepare):
    orig = cls.__init__

    def init(self_, *a, **k):
        a, k = prepare(self_, a, k)
        return orig(self_, *a, **k)

    cls.__init__ = init


def install_keras1(tracer: Tracer):
    """Keras 1 arguments, pooling's upper-case padding, ``/`` in layer names
    (see the module's docstring)."""
    import keras
    from keras.src.layers.pooling.base_pooling import BasePooling
    from keras.src.ops.operation import Operation

    def conv(self_, a, k):
        name = type(self_).__name__
        keras1 = any(x in k for x in _CONV) or "nb_row" in k or "nb_col" in k
        if len(a) >= 3 and _is_int(a[1]) and _is_int(a[2]) and "kernel_size" not in k and (
                keras1 or _written_keras1_name(tracer)):
            extra = dict(zip(_CONV_POSITIONAL, a[3:]))
            a = (a[0], (a[1], a[2]))
            for key, v in extra.items():
                k.setdefault(key, v)
            tracer.legacy("argument", "Convolution2D(nb_filter, nb_row, nb_col)",
                          "Conv2D(filters, kernel_size=(nb_row, nb_col))")
        if "nb_row" in k and "nb_col" in k and "kernel_size" not in k and len(a) < 2:
            k["kernel_size"] = (k.pop("nb_row"), k.pop("nb_col"))
            tracer.legacy("argument", "Convolution2D(nb_row=, nb_col=)", "kernel_size=(nb_row, nb_col)")
        _rename(tracer, name, _CONV, k)
        return a, k

    def renamer(table):
        def prepare(self_, a, k):
            _rename(tracer, type(self_).__name__, table, k)
            return a, k

        return prepare

    def batchnorm(self_, a, k):
        if k.get("mode", None) == 0:  # Keras 1's feature-wise mode, the only one Keras 3 has
            k.pop("mode")
            tracer.legacy("argument", "BatchNormalization(mode=0)", "BatchNormalization()")
        _rename(tracer, "BatchNormalization", _BATCHNORM, k)
        return a, k

    L = keras.layers
    for cls in (L.Conv2D, L.SeparableConv2D):
        _wrap(cls, conv)
    for cls in (L.MaxPooling2D, L.AveragePooling2D):
        _wrap(cls, renamer(_POOL))
    for cls in (L.GlobalAveragePooling2D, L.GlobalMaxPooling2D, L.ZeroPadding2D, L.UpSampling2D, L.Flatten):
        _wrap(cls, renamer(_DIM))
    _wrap(L.Dense, renamer(_DENSE))
    _wrap(L.Dropout, renamer(_DROPOUT))
    _wrap(L.BatchNormalization, batchnorm)

    # padding="SAME": Keras 2 lower-cased it; Keras 3's pooling layers refuse it
    orig_pool = BasePooling.__init__

    def pool_init(self_, *a, **k):
        p = k.get("padding")
        if isinstance(p, str) and p != p.lower() and p.lower() in ("same", "valid"):
            k["padding"] = p.lower()
            tracer.legacy("behaviour", f"{type(self_).__name__}(padding={p!r})", f"padding={p.lower()!r}")
        return orig_pool(self_, *a, **k)

    BasePooling.__init__ = pool_init

    # a `/` in a layer's name: Keras 2 allowed it; Keras gets `_`, the trace keeps the student's name
    orig_op = Operation.__init__

    def op_init(self_, *a, **k):
        name = k.get("name", a[0] if a else None)
        if isinstance(name, str) and "/" in name and tracer.student_source() is not None:
            keras_name = name.replace("/", "_")
            if "name" in k:
                k["name"] = keras_name
            else:
                a = (keras_name,) + tuple(a[1:])
            tracer.written_names[id(self_)] = name
            tracer.legacy("behaviour", "name='a/b'", "name='a_b' for Keras; the report keeps 'a/b'")
        return orig_op(self_, *a, **k)

    Operation.__init__ = op_init

    # K.image_dim_ordering(), K.set_image_dim_ordering('tf'); Keras 1's merge() function
    # (also Keras 2's keras.layers.merge module), asked for by name
    for backend in ("keras.backend", "keras._tf_keras.keras.backend"):
        fallback(tracer, backend, BACKEND_NAMES.get)
    merge = legacy_module("keras.layers.merge", ("keras.layers",))
    for layers_mod in ("keras.layers", "keras._tf_keras.keras.layers"):
        fallback(tracer, layers_mod, lambda name: (merge, "keras.layers") if name == "merge" else None)


class _MergeModule(LegacyModule):
    """``keras.layers.merge``: the Keras 2 module of the merge layers, and Keras 1's
    ``merge(inputs, mode=..., concat_axis=...)`` function in one."""

    __module__ = SHOWN_MODULE

    def __call__(self, inputs, mode="sum", concat_axis=-1, dot_axes=-1, name=None, **rest):
        import keras

        from .standins import _STATE

        L = keras.layers
        kw = {"name": name} if name is not None else {}
        if mode == "concat":
            layer, new = L.Concatenate(axis=concat_axis, **kw), f"Concatenate(axis={concat_axis!r})"
        elif mode == "dot":
            layer, new = L.Dot(axes=dot_axes, **kw), f"Dot(axes={dot_axes!r})"
        elif mode == "cos":
            layer, new = L.Dot(axes=dot_axes, normalize=True, **kw), f"Dot(axes={dot_axes!r}, normalize=True)"
        elif mode in _MERGE_MODES:
            layer, new = getattr(L, _MERGE_MODES[mode])(**kw), f"{_MERGE_MODES[mode]}()"
        else:
            raise ValueError(f"merge(mode={mode!r}): a Keras 1 merge mode with no Keras 3 layer")
        tracer = _STATE["tracer"]
        if tracer is not None:
            tracer.legacy("behaviour", f"merge(mode={mode!r})", new)
        return layer(inputs)


_MERGE_MODES = {"sum": "Add", "mul": "Multiply", "ave": "Average", "max": "Maximum"}


def legacy_module(name: str, targets) -> LegacyModule:
    """The module a Keras 2 path reads as (``keras.layers.merge`` is callable too)."""
    if name.endswith("layers.merge"):
        return _MergeModule(name, targets)
    return LegacyModule(name, targets)


def image_dim_ordering():
    """Keras 1's name for the image data format: 'tf' (channels last) or 'th'."""
    import keras

    return "tf" if keras.config.image_data_format() == "channels_last" else "th"


def set_image_dim_ordering(ordering):
    import keras

    if ordering not in ("tf", "th"):
        raise ValueError(f"Unknown dim_ordering: {ordering!r} (Keras 1 knew 'tf' and 'th')")
    keras.config.set_image_data_format(_ORDERING[ordering])


#: Keras 1 backend functions: name -> (function, what the note says it is now)
BACKEND_NAMES = {
    "image_dim_ordering": (image_dim_ordering, "keras.config.image_data_format() ('tf': 'channels_last')"),
    "set_image_dim_ordering": (set_image_dim_ordering,
                               "keras.config.set_image_data_format('channels_last' | 'channels_first')"),
}
