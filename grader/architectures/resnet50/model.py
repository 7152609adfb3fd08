"""Paper-faithful ResNet-50 reference model.

Written from He et al., "Deep Residual Learning for Image Recognition" (CVPR
2016, arXiv:1512.03385), Table 1, 50-layer column, and Section 3: a 7x7/2
convolution with 64 filters, a 3x3/2 max pool, four stages conv2_x..conv5_x of
bottleneck blocks [1x1, 3x3, 1x1] (Figure 5, right) repeated 3, 4, 6 and 3
times, batch normalization right after every convolution and before the
activation (Section 3.4), the ReLU of a block after the addition (Figure 2),
projection shortcuts (option B: a 1x1 convolution, here followed by BN as every
convolution is) where the dimensions increase, that is in the first block of
every stage, identity shortcuts elsewhere, downsampling "by conv3_1, conv4_1,
and conv5_1 with a stride of 2" (Table 1's caption), global average pooling and
a 1000-way fully connected layer with softmax.

Layer names
-----------
The names Keras users know from ``keras.applications.ResNet50``:
``conv1_conv``, ``conv1_bn``, ``conv1_relu``, ``pool1_pool``, then for block
*b* of stage *s* (``conv2`` .. ``conv5``) ``{s}_block{b}_1_conv`` /
``_1_bn`` / ``_1_relu`` (first 1x1), ``_2_*`` (3x3), ``_3_conv`` / ``_3_bn``
(last 1x1), ``_0_conv`` / ``_0_bn`` (the projection shortcut, first block
only), ``_add`` and ``_out`` (the ReLU after the addition); the head is
``avg_pool`` and ``predictions``; the input is ``data`` (the grader's name for
the input; Keras calls it ``input_layer``).

Padding: the reference uses ``padding='same'`` on the 7x7/2 convolution and
the 3x3/2 max pool instead of Keras' explicit ``conv1_pad`` / ``pool1_pad``
``ZeroPadding2D`` layers followed by 'valid' ones.  The output shapes are the
same (112x112 and 56x56 from 224x224; 'same' pads 2 before and 3 after where
Keras pads 3 on both sides, a one-pixel shift of the sampling grid, not a
change of structure), the parameters are the same, and nearly every student
writes 'same', so the reference has no layers that exist only to pad.

Biases: the convolutions keep Keras' default ``use_bias=True``, as
``keras.applications.ResNet50`` does, so that the total is its 25,636,712.
The authors' released Caffe model has no convolution biases (BN follows every
convolution and has its own offset): ``resnet50(use_bias=False)`` builds that,
with 25,610,152 parameters.

Stride placement: ``stride_on="1x1"`` (default) puts the stride 2 of
conv3_1, conv4_1 and conv5_1 on the block's first 1x1 convolution, as the
paper's Caffe model and ``keras.applications.ResNet50`` do;
``stride_on="3x3"`` puts it on the 3x3 convolution, the "ResNet v1.5"
placement of later implementations (torchvision, NVIDIA).  The parameter count
is the same; the multiply-adds are not (Table 1's 3.8x10^9 is the paper's).

The course variant (issue 16, item 4) is :func:`resnet50_course`:
``he_normal`` initializers and the classifier applied to the 1x1 map after a
7x7 average pool, output ``(None, 1, 1, 1000)``, the same 25,636,712
parameters.

Building the model only creates symbolic tensors and variables; it never runs
the network on data.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import keras
from keras import layers

__all__ = [
    "HEADS",
    "STAGES",
    "STRIDE_PLACEMENTS",
    "Stage",
    "TOTAL_PARAMS",
    "TOTAL_PARAMS_NO_BIAS",
    "identity_block",
    "projection_block",
    "resnet50",
    "resnet50_course",
]

#: Parameters with the 1000-class top, as ``keras.applications.ResNet50(weights=None)``.
TOTAL_PARAMS = 25_636_712
#: The same network without convolution biases (the authors' Caffe model).
TOTAL_PARAMS_NO_BIAS = 25_610_152

STRIDE_PLACEMENTS = ("1x1", "3x3")
#: "global_pool": global average pool then Dense, output (None, classes) (the paper);
#: "dense_on_map": 7x7 average pool then Dense on the 1x1 map, output (None, 1, 1, classes).
HEADS = ("global_pool", "dense_on_map")


class Stage(NamedTuple):
    """One row of Table 1: a stage of bottleneck blocks."""

    name: str  # "conv2" .. "conv5", the prefix of its layers' names
    filters: tuple[int, int, int]  # (1x1, 3x3, 1x1) filter counts
    blocks: int
    strides: int  # of the stage's first block


#: Table 1, 50-layer column.
STAGES = (
    Stage("conv2", (64, 64, 256), 3, 1),
    Stage("conv3", (128, 128, 512), 4, 2),
    Stage("conv4", (256, 256, 1024), 6, 2),
    Stage("conv5", (512, 512, 2048), 3, 2),
)


def _conv_bn(x, filters: int, kernel: int, name: str, *, strides: int = 1, relu: bool = True,
             kernel_initializer="glorot_uniform", use_bias: bool = True):
    """Conv -> BN (-> ReLU): every convolution of the paper is followed by BN (Section 3.4)."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=use_bias,
                      kernel_initializer=kernel_initializer, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(axis=-1, name=f"{name}_bn")(x)
    if relu:
        x = layers.Activation("relu", name=f"{name}_relu")(x)
    return x


def _check_filters(filters: Sequence[int]) -> tuple[int, int, int]:
    if len(filters) != 3:
        raise ValueError(f"a bottleneck block takes 3 filter counts (1x1, 3x3, 1x1), got {filters!r}")
    return tuple(int(f) for f in filters)  # type: ignore[return-value]


def _bottleneck(x, shortcut, filters, name: str, strides: int, stride_on: str, **conv):
    f1, f2, f3 = _check_filters(filters)
    x = _conv_bn(x, f1, 1, f"{name}_1", strides=strides if stride_on == "1x1" else 1, **conv)
    x = _conv_bn(x, f2, 3, f"{name}_2", strides=strides if stride_on == "3x3" else 1, **conv)
    x = _conv_bn(x, f3, 1, f"{name}_3", relu=False, **conv)
    # The ReLU comes after the addition (Figure 2: F(x) + x, then relu).
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def identity_block(x, filters: Sequence[int], name: str = "identity_block", *,
                   kernel_initializer="glorot_uniform", use_bias: bool = True):
    """A bottleneck block with an identity shortcut (every block but a stage's first).

    ``filters`` = (1x1, 3x3, 1x1) filter counts; the last must equal ``x``'s
    channels, or the addition cannot be made.  Layers are named
    ``{name}_1_conv`` ... ``{name}_add``, ``{name}_out``.
    """
    f3 = _check_filters(filters)[2]
    if x.shape[-1] != f3:
        raise ValueError(f"an identity shortcut needs {f3} input channels to add, got {x.shape[-1]}")
    return _bottleneck(x, x, filters, name, 1, "1x1",
                       kernel_initializer=kernel_initializer, use_bias=use_bias)


def projection_block(x, filters: Sequence[int], strides: int = 2, name: str = "projection_block", *,
                     stride_on: str = "1x1", kernel_initializer="glorot_uniform", use_bias: bool = True):
    """A bottleneck block with a projection shortcut (1x1 conv with ``strides``, then BN).

    The first block of every stage (``strides=1`` for conv2_x, where the max
    pool has already halved the map, 2 for conv3_x..conv5_x).  ``stride_on``
    says which main-path convolution carries the stride: ``"1x1"`` (the paper)
    or ``"3x3"`` (v1.5).  The shortcut is named ``{name}_0_conv`` / ``_0_bn``.
    """
    if stride_on not in STRIDE_PLACEMENTS:
        raise ValueError(f"stride_on must be one of {STRIDE_PLACEMENTS}, got {stride_on!r}")
    f3 = _check_filters(filters)[2]
    conv = dict(kernel_initializer=kernel_initializer, use_bias=use_bias)
    shortcut = _conv_bn(x, f3, 1, f"{name}_0", strides=strides, relu=False, **conv)
    return _bottleneck(x, shortcut, filters, name, strides, stride_on, **conv)


def resnet50(*, input_shape=(224, 224, 3), classes: int = 1000, stride_on: str = "1x1",
             kernel_initializer="glorot_uniform", use_bias: bool = True, head: str = "global_pool",
             name: str = "resnet50") -> keras.Model:
    """ResNet-50 of Table 1 (see the module docstring for the options)."""
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")
    conv = dict(kernel_initializer=kernel_initializer, use_bias=use_bias)
    inputs = keras.Input(shape=tuple(input_shape), name="data")
    x = _conv_bn(inputs, 64, 7, "conv1", strides=2, **conv)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1_pool")(x)
    for stage in STAGES:
        x = projection_block(x, stage.filters, stage.strides, f"{stage.name}_block1", stride_on=stride_on, **conv)
        for b in range(2, stage.blocks + 1):
            x = identity_block(x, stage.filters, f"{stage.name}_block{b}", **conv)
    if head == "global_pool":
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    else:  # the 7x7 map of conv5_x pooled to 1x1, kept as a map
        x = layers.AveragePooling2D(pool_size=int(x.shape[1]), name="avg_pool")(x)
    outputs = layers.Dense(classes, activation="softmax", kernel_initializer=kernel_initializer,
                           name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


def resnet50_course(**kwargs) -> keras.Model:
    """The course variant: he_normal initializers, Dense on the 1x1 map (25,636,712 parameters)."""
    options = dict(kernel_initializer="he_normal", head="dense_on_map")
    options.update(kwargs)
    return resnet50(**options)
