"""
Ana Lima -- Deep Learning, assignment 3
GoogLeNet (Szegedy et al., "Going Deeper with Convolutions", 2014)

Layer sizes copied from Table 1. Every inception module is described by one
row of the table, so the body of the network is just a loop over BLOCKS.
"""
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

# row of Table 1: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj
BLOCKS = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
POOL_AFTER = {"3b", "4e"}       # max pool 3x3/2 between the stages
AUX_AFTER = {"4a": "aux1", "4d": "aux2"}


def lrn(x, name):
    return layers.Lambda(
        lambda t: tf.nn.local_response_normalization(t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75),
        name=name)(x)


def inception(x, f1, f3r, f3, f5r, f5, fp, name):
    relu = dict(padding="same", activation="relu")
    a = layers.Conv2D(f1, 1, name=f"{name}_1x1", **relu)(x)
    b = layers.Conv2D(f3r, 1, name=f"{name}_3x3_reduce", **relu)(x)
    b = layers.Conv2D(f3, 3, name=f"{name}_3x3", **relu)(b)
    c = layers.Conv2D(f5r, 1, name=f"{name}_5x5_reduce", **relu)(x)
    c = layers.Conv2D(f5, 5, name=f"{name}_5x5", **relu)(c)
    d = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    d = layers.Conv2D(fp, 1, name=f"{name}_pool_proj", **relu)(d)
    return layers.Concatenate(name=f"{name}_output")([a, b, c, d])


def aux_head(x, name):
    y = layers.AveragePooling2D(5, strides=3, name=f"{name}_avgpool")(x)
    y = layers.Conv2D(128, 1, activation="relu", name=f"{name}_conv")(y)
    y = layers.Flatten(name=f"{name}_flatten")(y)
    y = layers.Dense(1024, activation="relu", name=f"{name}_fc")(y)
    y = layers.Dropout(0.7, name=f"{name}_dropout")(y)
    return layers.Dense(1000, activation="softmax", name=f"{name}_out")(y)


def build_model():
    inp = keras.Input((224, 224, 3), name="image")
    x = layers.Conv2D(64, 7, strides=2, padding="same", activation="relu", name="conv1")(inp)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = lrn(x, "norm1")
    x = layers.Conv2D(64, 1, activation="relu", name="conv2_reduce")(x)
    x = layers.Conv2D(192, 3, padding="same", activation="relu", name="conv2")(x)
    x = lrn(x, "norm2")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)

    aux = []
    for key, row in BLOCKS.items():
        x = inception(x, *row, name=f"inception_{key}")
        if key in AUX_AFTER:
            aux.append(aux_head(x, AUX_AFTER[key]))
        if key in POOL_AFTER:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool_after_{key}")(x)

    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.4, name="dropout")(x)
    out = layers.Dense(1000, activation="softmax", name="main")(x)
    return keras.Model(inp, [out, *aux], name="googlenet")


if __name__ == "__main__":
    model = build_model()
    model.summary()
