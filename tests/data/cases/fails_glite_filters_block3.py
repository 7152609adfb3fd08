# solution: googlenet_lite
# expect: filters stage2/block1/b2/conv2
# the third block's 3x3 has 112 filters, not 104.
import tensorflow as tf
from tensorflow.keras import layers, Model


def cbr(x, f, k):
    x = layers.Conv2D(f, (k, k), padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.Activation("relu")(x)


def inception_module(x, filters):
    f1, f3r, f3, f5r, f5, fp = filters
    branch1 = cbr(x, f1, 1)
    branch3 = cbr(x, f3r, 1)
    branch3 = cbr(branch3, f3, 3)
    branch5 = cbr(x, f5r, 1)
    branch5 = cbr(branch5, f5, 5)
    pool = layers.MaxPool2D(pool_size=(3, 3), strides=(1, 1), padding="same")(x)
    pool = cbr(pool, fp, 1)
    return layers.concatenate([branch1, branch3, branch5, pool], axis=-1)


def build_model():
    inp = layers.Input(shape=(32, 32, 3))
    x = cbr(inp, 64, 3)
    x = inception_module(x, (32, 48, 64, 8, 16, 16))
    x = inception_module(x, (64, 64, 96, 16, 48, 32))
    x = layers.MaxPool2D((3, 3), strides=(2, 2), padding="same")(x)
    x = inception_module(x, (96, 48, 112, 8, 24, 32))
    x = inception_module(x, (80, 56, 112, 12, 32, 32))
    x = layers.GlobalAvgPool2D()(x)
    return Model(inp, layers.Dense(10, activation="softmax")(x))
