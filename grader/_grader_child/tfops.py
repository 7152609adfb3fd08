"""TensorFlow functions applied to Keras symbolic tensors, wrapped as Keras 2 did.

In a Keras 2 functional model ``tf.nn.local_response_normalization(x)`` or
``tf.concat([a, b], 3)`` on a Keras tensor became a layer (``TFOpLambda``);
Keras 3 raises "A KerasTensor cannot be used as input to a TensorFlow
function". TensorFlow asks its global dispatchers about a call that failed on
an argument it cannot convert (``tf.__internal__.dispatch``, what Keras 2 used
too); the one installed here answers a call from the student's own code with
Keras tensors in its arguments: the function becomes one ``Lambda`` layer
(named as Keras 2 named it, ``tf.nn.local_response_normalization``) called on
those tensors at the student's line. The tracer records that layer's call
there and the TensorFlow op inside it, so an LRN written this way is graded as
the LRN it is. Each use is noted (``legacy_api``).
"""

from __future__ import annotations

import os
import sys

from .tracer import Tracer


def _api_name(op) -> str:
    try:
        from tensorflow.python.util import tf_decorator

        target = tf_decorator.unwrap(op)[1]
    except Exception:
        target = op
    names = getattr(op, "_tf_api_names", None) or getattr(target, "_tf_api_names", None)
    if names:
        return "tf." + names[0]
    return "tf." + str(getattr(target, "__name__", getattr(op, "__name__", "op")))


def install_tf_ops(tracer: Tracer):
    import tensorflow as tf
    import keras
    from keras.src.backend.common.keras_tensor import KerasTensor
    from keras.src.utils import naming

    def called_by_student() -> bool:
        """Whether the TensorFlow function was called by the student's own code (the
        first frame outside TensorFlow), not by Keras or another library."""
        f = sys._getframe(2)
        while f is not None and os.sep + "tensorflow" + os.sep in f.f_code.co_filename:
            f = f.f_back
        return f is not None and tracer.is_student_file(f.f_code.co_filename)

    class KerasTensorsInTF(tf.__internal__.dispatch.GlobalOpDispatcher):
        """A TensorFlow function called by the student's code on Keras tensors: one layer."""

        def handle(self, op, args, kwargs):
            if tracer.busy:
                return self.NOT_SUPPORTED
            try:
                flat = tf.nest.flatten([list(args), dict(kwargs)])
            except Exception:
                return self.NOT_SUPPORTED
            where = [i for i, x in enumerate(flat) if isinstance(x, KerasTensor)]
            if not where or not called_by_student():
                return self.NOT_SUPPORTED
            structure = [list(args), dict(kwargs)]
            api = _api_name(op)

            def call_op(tensors):
                vals = list(flat)
                for i, t in zip(where, tensors if isinstance(tensors, (list, tuple)) else [tensors]):
                    vals[i] = t
                a, k = tf.nest.pack_sequence_as(structure, vals)
                return op(*a, **k)

            call_op.__name__ = api.rpartition(".")[2]
            tracer.legacy("behaviour", f"{api}(<Keras tensor>)", f"a Lambda layer calling {api}, as Keras 2 made it")
            layer = keras.layers.Lambda(call_op, name=naming.uniquify(api))
            tensors = [flat[i] for i in where]
            return layer(tensors if len(tensors) > 1 else tensors[0])

    KerasTensorsInTF().register()
