"""The course's small residual network for CIFAR-10 (He et al.'s CIFAR design,
n = 2): a 3x3 stem of 16 filters, three stages of two basic blocks (16, 32,
64 filters; the first block of stages 2 and 3 halves the map with a strided
3x3 and a 1x1 projection shortcut), global average pooling, Dense(10).
The convolutions are named after their stage and block; the additions keep
Keras's default names."""

import keras
from keras import layers


def basic_block(x, filters, stage, block, stride=1):
    name = f"s{stage}b{block}"
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
    y = layers.BatchNormalization(name=f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
    y = layers.BatchNormalization(name=f"{name}_bn2")(y)
    if stride != 1:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj")(x)
        shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
    y = layers.Add()([y, shortcut])
    return layers.Activation("relu")(y)


def resnet(input_shape=(32, 32, 3), num_classes=10):
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for stage, filters in enumerate((16, 32, 64), 1):
        for block in (1, 2):
            stride = 2 if stage > 1 and block == 1 else 1
            x = basic_block(x, filters, stage, block, stride)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs)


model = resnet()
