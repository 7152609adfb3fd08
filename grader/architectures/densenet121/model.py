"""Paper-faithful DenseNet-121 reference model.

Written from Huang et al., "Densely Connected Convolutional Networks" (CVPR
2017, arXiv:1608.06993), Table 1 (DenseNet-121 column) and Section 3: a 7x7/2
convolution with 2k = 64 filters, a 3x3/2 max pool, four dense blocks of 6, 12,
24 and 16 layers, each layer BN-ReLU-Conv1x1(4k)-BN-ReLU-Conv3x3(k) (the
"DenseNet-B" bottleneck, "we let each 1x1 convolution produce 4k feature-maps")
whose k = 32 new feature maps are concatenated onto its input, transition
layers BN-ReLU-Conv1x1(floor(theta m))-AvgPool 2x2/2 between the blocks with
compression theta = 0.5 ("DenseNet-BC"), a final BN-ReLU, a global average pool
and a 1000-way fully connected layer with softmax.

Layer names
-----------
The names of ``keras.applications.DenseNet121``: ``conv1_conv``, ``conv1_bn``,
``conv1_relu``, ``pool1``; layer *i* of dense block *n* (``conv2`` .. ``conv5``)
is ``conv{n}_block{i}_0_bn``, ``_0_relu``, ``_1_conv`` (the 4k 1x1),
``_1_bn``, ``_1_relu``, ``_2_conv`` (the k 3x3) and ``_concat``; the transition
after dense block *n* is ``pool{n}_bn``, ``_relu``, ``_conv``, ``_pool``; the
head is ``bn``, ``relu``, ``avg_pool``, ``predictions``; the input is ``data``.

Padding: 'same' on the 7x7/2 convolution and the 3x3/2 max pool instead of
Keras' two unnamed ``ZeroPadding2D`` layers followed by 'valid' ones: the same
output shapes (112x112, 56x56) and parameters, and no layers that only pad.

Biases: the paper's convolutions have none (each is next to a BN), as in
``keras.applications.DenseNet121``: 8,062,504 parameters.

The course variant (issue 16, item 4) is :func:`densenet121_course`: the
stem written as the caption's "conv" unit, BN-ReLU-Conv, so a BN and a ReLU on
the input image and none after the 7x7 convolution; no BN-ReLU after the last
dense block; ``he_normal`` initializers; Keras' default ``use_bias=True``;
Dense on the 1x1 map after a 7x7 average pool (output ``(None, 1, 1, 1000)``);
and the signature ``densenet121(growth_rate=32, compression=1.0)``:
8,068,404 parameters with ``(32, 0.5)``, 14,048,948 with the defaults.

Building the model only creates symbolic tensors and variables.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
from keras import layers as kl  # `layers` is dense_block's argument, as in the assignments

__all__ = [
    "BLOCKS",
    "HEADS",
    "STEMS",
    "DenseBlock",
    "TOTAL_PARAMS",
    "TOTAL_PARAMS_COURSE",
    "TOTAL_PARAMS_COURSE_DEFAULTS",
    "dense_block",
    "densenet121",
    "densenet121_course",
    "transition_layer",
]

#: Parameters with the 1000-class top, as ``keras.applications.DenseNet121(weights=None)``.
TOTAL_PARAMS = 8_062_504
#: The course variant, ``densenet121(32, 0.5)``.
TOTAL_PARAMS_COURSE = 8_068_404
#: The course variant with its signature's defaults, ``densenet121(32, 1.0)``.
TOTAL_PARAMS_COURSE_DEFAULTS = 14_048_948

#: "conv_bn_relu": Conv7x7-BN-ReLU (the authors' code, Keras); "bn_relu_conv": BN-ReLU on the input, then the conv.
STEMS = ("conv_bn_relu", "bn_relu_conv")
#: As in grader.architectures.resnet50: "global_pool" (the paper) or "dense_on_map" (output (None, 1, 1, classes)).
HEADS = ("global_pool", "dense_on_map")


class DenseBlock(NamedTuple):
    """One dense block of Table 1 and the transition after it (none after the last)."""

    name: str  # "conv2" .. "conv5"
    layers: int
    transition: str | None  # "pool2" .. "pool4"


#: Table 1, DenseNet-121 column.
BLOCKS = (
    DenseBlock("conv2", 6, "pool2"),
    DenseBlock("conv3", 12, "pool3"),
    DenseBlock("conv4", 24, "pool4"),
    DenseBlock("conv5", 16, None),
)


def _bn_relu(x, name: str):
    x = kl.BatchNormalization(axis=-1, name=f"{name}_bn")(x)
    return kl.Activation("relu", name=f"{name}_relu")(x)


def _check_channels(x, nb_filters: int, what: str):
    if x.shape[-1] != nb_filters:
        raise ValueError(f"{what}: nb_filters={nb_filters} but the input has {x.shape[-1]} channels")


def dense_block(x, nb_filters: int, growth_rate: int, layers: int, name: str = "dense_block", *,
                kernel_initializer="glorot_uniform", use_bias: bool = False):
    """``layers`` dense layers; returns ``(x, nb_filters + layers * growth_rate)``.

    Each layer: BN-ReLU-Conv1x1(4k)-BN-ReLU-Conv3x3(k), its output
    concatenated onto its input along the channels.  Layer *i* (from 1) is
    named ``{name}_block{i}_0_bn`` ... ``{name}_block{i}_concat``.
    """
    _check_channels(x, nb_filters, "dense_block")
    conv = dict(padding="same", use_bias=use_bias, kernel_initializer=kernel_initializer)
    for i in range(1, layers + 1):
        prefix = f"{name}_block{i}"
        y = kl.BatchNormalization(axis=-1, name=f"{prefix}_0_bn")(x)
        y = kl.Activation("relu", name=f"{prefix}_0_relu")(y)
        y = kl.Conv2D(4 * growth_rate, 1, name=f"{prefix}_1_conv", **conv)(y)
        y = kl.BatchNormalization(axis=-1, name=f"{prefix}_1_bn")(y)
        y = kl.Activation("relu", name=f"{prefix}_1_relu")(y)
        y = kl.Conv2D(growth_rate, 3, name=f"{prefix}_2_conv", **conv)(y)
        x = kl.Concatenate(axis=-1, name=f"{prefix}_concat")([x, y])
        nb_filters += growth_rate
    return x, nb_filters


def transition_layer(x, nb_filters: int, compression: float, name: str = "transition_layer", *,
                     kernel_initializer="glorot_uniform", use_bias: bool = False):
    """BN-ReLU-Conv1x1(int(compression * nb_filters))-AvgPool 2x2/2; returns ``(x, new nb_filters)``.

    Layers ``{name}_bn``, ``{name}_relu``, ``{name}_conv``, ``{name}_pool``.
    """
    _check_channels(x, nb_filters, "transition_layer")
    nb_filters = int(nb_filters * compression)
    x = _bn_relu(x, name)
    x = kl.Conv2D(nb_filters, 1, padding="same", use_bias=use_bias, kernel_initializer=kernel_initializer,
                  name=f"{name}_conv")(x)
    x = kl.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)
    return x, nb_filters


def densenet121(growth_rate: int = 32, compression: float = 0.5, *, input_shape=(224, 224, 3),
                classes: int = 1000, stem: str = "conv_bn_relu", final_bn_relu: bool = True,
                head: str = "global_pool", kernel_initializer="glorot_uniform", use_bias: bool = False,
                name: str = "densenet121") -> keras.Model:
    """DenseNet-121 of Table 1 (see the module docstring for the options).

    ``final_bn_relu=False`` drops the BN-ReLU between the last dense block
    and the pool (the course variant has neither).
    """
    if stem not in STEMS:
        raise ValueError(f"stem must be one of {STEMS}, got {stem!r}")
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")
    conv = dict(kernel_initializer=kernel_initializer, use_bias=use_bias)
    inputs = keras.Input(shape=tuple(input_shape), name="data")
    x = inputs
    if stem == "bn_relu_conv":
        x = _bn_relu(x, "conv1")
    # The stem has 2k filters (Section 3, "Implementation Details"): 64 for k = 32.
    x = kl.Conv2D(2 * growth_rate, 7, strides=2, padding="same", name="conv1_conv", **conv)(x)
    if stem == "conv_bn_relu":
        x = _bn_relu(x, "conv1")
    x = kl.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    nb_filters = 2 * growth_rate
    for block in BLOCKS:
        x, nb_filters = dense_block(x, nb_filters, growth_rate, block.layers, block.name, **conv)
        if block.transition:
            x, nb_filters = transition_layer(x, nb_filters, compression, block.transition, **conv)
    if final_bn_relu:
        x = kl.BatchNormalization(axis=-1, name="bn")(x)
        x = kl.Activation("relu", name="relu")(x)
    if head == "global_pool":
        x = kl.GlobalAveragePooling2D(name="avg_pool")(x)
    else:
        x = kl.AveragePooling2D(pool_size=int(x.shape[1]), name="avg_pool")(x)
    outputs = kl.Dense(classes, activation="softmax", kernel_initializer=kernel_initializer,
                       name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def densenet121_course(growth_rate: int = 32, compression: float = 1.0, **kwargs) -> keras.Model:
    """The course variant with the course's signature (defaults (32, 1.0): 14,048,948 parameters)."""
    options = dict(stem="bn_relu_conv", final_bn_relu=False, head="dense_on_map",
                   kernel_initializer="he_normal", use_bias=True)
    options.update(kwargs)
    return densenet121(growth_rate, compression, **options)
