"""Paper-faithful GoogLeNet (Inception v1) reference model.

Written from Szegedy et al., "Going Deeper with Convolutions" (CVPR 2015,
arXiv:1409.4842): Table 1 gives every layer's patch size, stride, output size
and filter counts; Figure 3 gives the wiring, the local response
normalisations and the two auxiliary classifiers; Section 5 describes the
auxiliary heads (5x5/3 average pool, 128 1x1 filters, a 1024-unit fully
connected layer, 70% dropout, a softmax classifier).

Layer names
-----------
Every layer carries the name of its counterpart in the BVLC Caffe GoogLeNet
(``conv1/7x7_s2``, ``inception_3a/3x3_reduce``, ``loss1/classifier``, ...).
Keras refuses ``/`` in layer names (``ValueError: Argument `name` must be a
string and cannot contain character `/```), so each ``/`` is stored as a double
underscore ``__``.  No Caffe name contains ``__``, so the mapping is one to
one; use :func:`caffe_to_keras` and :func:`keras_to_caffe` to convert::

    model.get_layer(caffe_to_keras("inception_3a/1x1"))   # 'inception_3a__1x1'
    keras_to_caffe(layer.name)                             # 'inception_3a/1x1'

Totals (1000 classes, 224x224x3 input, biases included, all trainable):
13,378,280 parameters with the auxiliary heads, 6,998,552 without.

Building the model only creates symbolic tensors and variables; it never runs
the network on data.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

import keras
from keras import layers, ops

__all__ = [
    "CAFFE_SEPARATOR",
    "KERAS_SEPARATOR",
    "INCEPTION_BLOCKS",
    "InceptionSpec",
    "LocalResponseNormalization",
    "auxiliary_head",
    "build_googlenet",
    "caffe_to_keras",
    "inception",
    "keras_to_caffe",
]

CAFFE_SEPARATOR = "/"
KERAS_SEPARATOR = "__"


# --------------------------------------------------------------------------
# Caffe <-> Keras layer names
# --------------------------------------------------------------------------
def caffe_to_keras(name: str) -> str:
    """Map a Caffe layer name to the Keras layer name used by the reference.

    ``"inception_3a/1x1"`` -> ``"inception_3a__1x1"``.  Raises ``ValueError``
    for a name that already contains ``__``: it could not be mapped back.
    """
    if KERAS_SEPARATOR in name:
        raise ValueError(
            f"Caffe layer name {name!r} contains {KERAS_SEPARATOR!r}; "
            "it cannot be mapped to a Keras name one-to-one"
        )
    return name.replace(CAFFE_SEPARATOR, KERAS_SEPARATOR)


def keras_to_caffe(name: str) -> str:
    """Map a reference Keras layer name back to its Caffe name.

    ``"inception_3a__1x1"`` -> ``"inception_3a/1x1"``.
    """
    return name.replace(KERAS_SEPARATOR, CAFFE_SEPARATOR)


def _k(name: str) -> str:
    return caffe_to_keras(name)


# --------------------------------------------------------------------------
# Local response normalisation
# --------------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="grader")
class LocalResponseNormalization(keras.layers.Layer):
    """Cross-channel local response normalisation (Krizhevsky et al. 2012).

    Computes, over the last (channel) axis::

        out[..., c] = x[..., c] / (bias + alpha * sum_{|d - c| <= r} x[..., d]**2) ** beta

    with the same parameters as ``tf.nn.local_response_normalization``
    (``depth_radius`` = r).  The defaults are GoogLeNet's Caffe LRN
    (``local_size: 5, alpha: 1e-4, beta: 0.75``): Caffe divides ``alpha`` by
    ``local_size``, so in TensorFlow terms ``depth_radius = (5 - 1) / 2 = 2``,
    ``alpha = 1e-4 / 5 = 2e-5``, ``bias = 1.0``, ``beta = 0.75``.

    Implemented with ``keras.ops`` (zero-padded sum of squares over a sliding
    channel window), which matches ``tf.nn.local_response_normalization``.
    """

    def __init__(
        self,
        depth_radius: int = 2,
        bias: float = 1.0,
        alpha: float = 2e-5,
        beta: float = 0.75,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(depth_radius, bool) or int(depth_radius) != depth_radius or depth_radius < 0:
            raise ValueError(f"depth_radius must be a non-negative integer, got {depth_radius!r}")
        self.depth_radius = int(depth_radius)
        self.bias = float(bias)
        self.alpha = float(alpha)
        self.beta = float(beta)

    def call(self, inputs):
        r = self.depth_radius
        squared = ops.square(inputs)
        channels = inputs.shape[-1]
        if r == 0:
            window_sum = squared
        else:
            if channels is None:
                raise ValueError("LocalResponseNormalization needs a known channel dimension")
            rank = len(inputs.shape)
            padded = ops.pad(squared, [[0, 0]] * (rank - 1) + [[r, r]])
            window_sum = padded[..., 0:channels]
            for offset in range(1, 2 * r + 1):
                window_sum = window_sum + padded[..., offset : offset + channels]
        scale = ops.power(self.bias + self.alpha * window_sum, self.beta)
        return inputs / scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "depth_radius": self.depth_radius,
                "bias": self.bias,
                "alpha": self.alpha,
                "beta": self.beta,
            }
        )
        return config


# --------------------------------------------------------------------------
# Table 1
# --------------------------------------------------------------------------
class InceptionSpec(NamedTuple):
    """Filter counts of one inception module, columns of Table 1."""

    n1x1: int
    n3x3_reduce: int
    n3x3: int
    n5x5_reduce: int
    n5x5: int
    pool_proj: int


#: Inception modules of Table 1, in network order:
#: name -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
INCEPTION_BLOCKS: "OrderedDict[str, InceptionSpec]" = OrderedDict(
    [
        ("inception_3a", InceptionSpec(64, 96, 128, 16, 32, 32)),
        ("inception_3b", InceptionSpec(128, 128, 192, 32, 96, 64)),
        ("inception_4a", InceptionSpec(192, 96, 208, 16, 48, 64)),
        ("inception_4b", InceptionSpec(160, 112, 224, 24, 64, 64)),
        ("inception_4c", InceptionSpec(128, 128, 256, 24, 64, 64)),
        ("inception_4d", InceptionSpec(112, 144, 288, 32, 64, 64)),
        ("inception_4e", InceptionSpec(256, 160, 320, 32, 128, 128)),
        ("inception_5a", InceptionSpec(256, 160, 320, 32, 128, 128)),
        ("inception_5b", InceptionSpec(384, 192, 384, 48, 128, 128)),
    ]
)


def _conv(x, filters: int, kernel: int, name: str, strides: int = 1):
    """Convolution + ReLU (every convolution in GoogLeNet is rectified)."""
    return layers.Conv2D(
        filters,
        kernel,
        strides=strides,
        padding="same",
        activation="relu",
        name=_k(name),
    )(x)


def _max_pool(x, name: str, strides: int = 2):
    return layers.MaxPooling2D(pool_size=3, strides=strides, padding="same", name=_k(name))(x)


def inception(
    x,
    f1x1: int,
    f3x3_reduce: int,
    f3x3: int,
    f5x5_reduce: int,
    f5x5: int,
    pool_proj: int,
    name: str,
):
    """One inception module (Figure 2b), Caffe layer names under ``name``.

    Branches, concatenated in this order on the channel axis:
    1x1 | 1x1 reduce -> 3x3 | 1x1 reduce -> 5x5 | 3x3/1 max pool -> 1x1 proj.
    Output channels: ``f1x1 + f3x3 + f5x5 + pool_proj``.
    """
    b1 = _conv(x, f1x1, 1, f"{name}/1x1")

    b2 = _conv(x, f3x3_reduce, 1, f"{name}/3x3_reduce")
    b2 = _conv(b2, f3x3, 3, f"{name}/3x3")

    b3 = _conv(x, f5x5_reduce, 1, f"{name}/5x5_reduce")
    b3 = _conv(b3, f5x5, 5, f"{name}/5x5")

    b4 = _max_pool(x, f"{name}/pool", strides=1)
    b4 = _conv(b4, pool_proj, 1, f"{name}/pool_proj")

    return layers.Concatenate(axis=-1, name=_k(f"{name}/output"))([b1, b2, b3, b4])


def auxiliary_head(x, num_classes: int, name: str):
    """Auxiliary classifier (Section 5), Caffe names ``loss1/...``/``loss2/...``.

    5x5/3 average pool ('valid': 14x14 -> 4x4), 1x1 conv 128 + ReLU, flatten,
    fully connected 1024 + ReLU, 70% dropout, linear + softmax.
    """
    y = layers.AveragePooling2D(pool_size=5, strides=3, padding="valid", name=_k(f"{name}/ave_pool"))(x)
    y = _conv(y, 128, 1, f"{name}/conv")
    y = layers.Flatten(name=_k(f"{name}/flatten"))(y)
    y = layers.Dense(1024, activation="relu", name=_k(f"{name}/fc"))(y)
    y = layers.Dropout(0.7, name=_k(f"{name}/drop_fc"))(y)
    return layers.Dense(num_classes, activation="softmax", name=_k(f"{name}/classifier"))(y)


def build_googlenet(
    num_classes: int = 1000,
    input_shape: tuple[int, int, int] = (224, 224, 3),
    aux: bool = True,
) -> keras.Model:
    """Build GoogLeNet as in Table 1 / Figure 3 of the paper (functional API).

    Returns a model with outputs ``[main, aux1, aux2]`` when ``aux`` is true
    (aux1 after inception 4a, aux2 after inception 4d), else just ``main``.
    All outputs are softmax probabilities over ``num_classes``.
    """
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")

    inputs = keras.Input(shape=input_shape, name="data")

    # Stem.
    x = _conv(inputs, 64, 7, "conv1/7x7_s2", strides=2)  # 112x112x64
    x = _max_pool(x, "pool1/3x3_s2")  # 56x56x64
    x = LocalResponseNormalization(name=_k("pool1/norm1"))(x)
    x = _conv(x, 64, 1, "conv2/3x3_reduce")  # 56x56x64
    x = _conv(x, 192, 3, "conv2/3x3")  # 56x56x192
    x = LocalResponseNormalization(name=_k("conv2/norm2"))(x)
    x = _max_pool(x, "pool2/3x3_s2")  # 28x28x192

    aux_outputs = []
    for block, spec in INCEPTION_BLOCKS.items():
        if block == "inception_4a":
            x = _max_pool(x, "pool3/3x3_s2")  # 14x14x480
        elif block == "inception_5a":
            x = _max_pool(x, "pool4/3x3_s2")  # 7x7x832
        x = inception(x, *spec, name=block)
        if aux and block == "inception_4a":
            aux_outputs.append(auxiliary_head(x, num_classes, "loss1"))
        elif aux and block == "inception_4d":
            aux_outputs.append(auxiliary_head(x, num_classes, "loss2"))

    # Head: 7x7/1 average pool (global at 224x224), 40% dropout, linear + softmax.
    x = layers.GlobalAveragePooling2D(name=_k("pool5/7x7_s1"))(x)  # 1x1x1024
    x = layers.Dropout(0.4, name=_k("pool5/drop_7x7_s1"))(x)
    main = layers.Dense(num_classes, activation="softmax", name=_k("loss3/classifier"))(x)

    outputs = [main, *aux_outputs] if aux else main
    return keras.Model(inputs=inputs, outputs=outputs, name="googlenet")
