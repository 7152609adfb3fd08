# expect-warning: norm_type pool1/norm1
# expect-warning: norm_type conv2/norm2
# params: 13378792
"""Inception v1, table-driven.

The whole body of the network is described by ARCH below (one entry per row
of Table 1 in the paper), the code only walks through it.
"""
import tensorflow as tf
from tensorflow.keras import Input, Model, layers

# name -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj) or "maxpool"
ARCH = {
    "inception_3a": (64, 96, 128, 16, 32, 32),
    "inception_3b": (128, 128, 192, 32, 96, 64),
    "pool3": "maxpool",
    "inception_4a": (192, 96, 208, 16, 48, 64),
    "inception_4b": (160, 112, 224, 24, 64, 64),
    "inception_4c": (128, 128, 256, 24, 64, 64),
    "inception_4d": (112, 144, 288, 32, 64, 64),
    "inception_4e": (256, 160, 320, 32, 128, 128),
    "pool4": "maxpool",
    "inception_5a": (256, 160, 320, 32, 128, 128),
    "inception_5b": (384, 192, 384, 48, 128, 128),
}

# LRN is not available as a layer in Keras 3 -> LayerNormalization instead


def conv(x, filters, k, s=1, name=None):
    return layers.Conv2D(filters, k, strides=s, padding="same",
                         activation="relu", name=name)(x)


def inception_module(x, cfg, name):
    c1, c3r, c3, c5r, c5, cp = cfg
    p1 = conv(x, c1, 1, name=f"{name}_1x1")
    p2 = conv(conv(x, c3r, 1, name=f"{name}_3x3_reduce"), c3, 3, name=f"{name}_3x3")
    p3 = conv(conv(x, c5r, 1, name=f"{name}_5x5_reduce"), c5, 5, name=f"{name}_5x5")
    p4 = layers.MaxPooling2D(3, 1, padding="same", name=f"{name}_pool")(x)
    p4 = conv(p4, cp, 1, name=f"{name}_pool_proj")
    return layers.Concatenate(name=f"{name}_output")([p1, p2, p3, p4])


def GoogLeNet(input_shape=(224, 224, 3), num_classes=1000):
    img = Input(shape=input_shape, name="data")
    x = conv(img, 64, 7, s=2, name="conv1")
    x = layers.MaxPooling2D(3, 2, padding="same", name="pool1")(x)
    x = layers.LayerNormalization(name="norm1")(x)
    x = conv(x, 64, 1, name="conv2_reduce")
    x = conv(x, 192, 3, name="conv2")
    x = layers.LayerNormalization(name="norm2")(x)
    x = layers.MaxPooling2D(3, 2, padding="same", name="pool2")(x)

    aux_outputs = []
    for name, cfg in ARCH.items():
        if cfg == "maxpool":
            x = layers.MaxPooling2D(3, 2, padding="same", name=name)(x)
            continue
        x = inception_module(x, cfg, name)

        if name == "inception_4a":
            a = layers.AveragePooling2D(5, 3, name="aux1_pool")(x)
            a = conv(a, 128, 1, name="aux1_conv")
            a = layers.Flatten(name="aux1_flatten")(a)
            a = layers.Dense(1024, activation="relu", name="aux1_fc")(a)
            a = layers.Dropout(0.7, name="aux1_dropout")(a)
            aux_outputs.append(layers.Dense(num_classes, activation="softmax",
                                            name="aux1")(a))
        if name == "inception_4d":
            a = layers.AveragePooling2D(5, 3, name="aux2_pool")(x)
            a = conv(a, 128, 1, name="aux2_conv")
            a = layers.Flatten(name="aux2_flatten")(a)
            a = layers.Dense(1024, activation="relu", name="aux2_fc")(a)
            a = layers.Dropout(0.7, name="aux2_dropout")(a)
            aux_outputs.append(layers.Dense(num_classes, activation="softmax",
                                            name="aux2")(a))

    x = layers.GlobalAvgPool2D(name="avg_pool")(x)
    x = layers.Dropout(0.4, name="dropout")(x)
    out = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return Model(img, [out] + aux_outputs, name="GoogLeNet")


if __name__ == "__main__":
    net = GoogLeNet()
    print(net.count_params())
