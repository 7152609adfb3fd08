"""Jamal Wright - GoogLeNet (assignment 3)."""
import tensorflow as tf
from tensorflow.keras import layers, Model, Input

cfg = [
    ("3a", 64, 96, 128, 16, 32, 32),
    ("3b", 128, 128, 192, 32, 96, 64),
    "pool",
    ("4a", 192, 96, 208, 16, 48, 64),
    ("4b", 160, 112, 224, 24, 64, 64),
    ("4c", 128, 128, 256, 24, 64, 64),
    ("4d", 112, 144, 288, 32, 64, 64),
    "pool",
    ("5a", 256, 160, 320, 32, 128, 128),
    ("5b", 384, 192, 384, 48, 128, 128),
]


def conv(x, f, k, s=1):
    return layers.Conv2D(f, k, strides=s, padding="same", activation="relu")(x)


def inception_block(x, f1, f3r, f3, f5r, f5, fp):
    one = conv(x, f1, 1)
    three = conv(conv(x, f3r, 1), f3, 3)
    five = conv(conv(x, f5r, 1), f5, 5)
    pool = layers.AveragePooling2D(3, strides=1, padding="same")(x)
    pool = conv(pool, fp, 1)
    return layers.Concatenate()([one, three, five, pool])


def auxiliary(x):
    x = layers.AveragePooling2D(5, strides=3)(x)
    x = conv(x, 128, 1)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    x = layers.Dropout(0.7)(x)
    return layers.Dense(1000, activation="softmax")(x)


def build_model():
    inp = Input((224, 224, 3))
    x = conv(inp, 64, 7, 2)
    x = layers.MaxPool2D(3, 2, padding="same")(x)
    x = tf.keras.layers.Lambda(lambda t: tf.nn.lrn(t, 2, 1, 2e-5, 0.75))(x)
    x = conv(x, 64, 1)
    x = conv(x, 192, 3)
    x = tf.keras.layers.Lambda(lambda t: tf.nn.lrn(t, 2, 1, 2e-5, 0.75))(x)
    x = layers.MaxPool2D(3, 2, padding="same")(x)
    outs = []
    for c in cfg:
        if c == "pool":
            x = layers.MaxPool2D(3, 2, padding="same")(x)
            continue
        x = inception_block(x, *c[1:])
        if c[0] in ("4a", "4d"):
            outs.append(auxiliary(x))
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.5)(x)
    return Model(inp, [layers.Dense(1000, activation="softmax")(x)] + outs)
