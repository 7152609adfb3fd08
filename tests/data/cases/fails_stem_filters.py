# expect: filters conv1/7x7_s2
# params: 13371496
import os

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

NUM_CLASSES = 1000


def lrn(t):
    return tf.nn.local_response_normalization(t, depth_radius=2, bias=1, alpha=2e-05, beta=0.75)


def make_stem():
    """Everything before inception (3a): a plain stack, so Sequential is enough."""
    return keras.Sequential([
        keras.Input(shape=(224, 224, 3)),
        layers.Conv2D(32, 7, strides=2, padding="same", activation="relu", name="conv1"),
        layers.MaxPool2D(3, strides=2, padding="same", name="pool1"),
        layers.Lambda(lrn, name="lrn1"),
        layers.Conv2D(64, 1, activation="relu", name="conv2_1x1"),
        layers.Conv2D(192, 3, padding="same", activation="relu", name="conv2_3x3"),
        layers.Lambda(lrn, name="lrn2"),
        layers.MaxPool2D(3, strides=2, padding="same", name="pool2"),
    ], name="stem")


def make_aux(name):
    return keras.Sequential([
        layers.AveragePooling2D(pool_size=5, strides=3),
        layers.Conv2D(128, 1, activation="relu"),
        layers.Flatten(),
        layers.Dense(1024, activation="relu"),
        layers.Dropout(0.7),
        layers.Dense(NUM_CLASSES, activation="softmax"),
    ], name=name)


def inception(x, filters):
    """filters = [#1x1, (#3x3 reduce, #3x3), (#5x5 reduce, #5x5), pool proj]"""
    f1, (f3r, f3), (f5r, f5), fp = filters
    path1 = layers.Conv2D(f1, 1, activation="relu")(x)
    path2 = layers.Conv2D(f3r, 1, activation="relu")(x)
    path2 = layers.Conv2D(f3, 3, padding="same", activation="relu")(path2)
    path3 = layers.Conv2D(f5r, 1, activation="relu")(x)
    path3 = layers.Conv2D(f5, 5, padding="same", activation="relu")(path3)
    path4 = layers.MaxPool2D(3, strides=1, padding="same")(x)
    path4 = layers.Conv2D(fp, 1, activation="relu")(path4)
    return layers.Concatenate(axis=3)([path1, path2, path3, path4])


def get_model():
    inputs = keras.Input(shape=(224, 224, 3))
    x = make_stem()(inputs)

    x = inception(x, [64, (96, 128), (16, 32), 32])        # 3a
    x = inception(x, [128, (128, 192), (32, 96), 64])      # 3b
    x = layers.MaxPool2D(3, strides=2, padding="same")(x)

    x = inception(x, [192, (96, 208), (16, 48), 64])       # 4a
    aux1 = make_aux("aux1")(x)
    x = inception(x, [160, (112, 224), (24, 64), 64])      # 4b
    x = inception(x, [128, (128, 256), (24, 64), 64])      # 4c
    x = inception(x, [112, (144, 288), (32, 64), 64])      # 4d
    aux2 = make_aux("aux2")(x)
    x = inception(x, [256, (160, 320), (32, 128), 128])    # 4e
    x = layers.MaxPool2D(3, strides=2, padding="same")(x)

    x = inception(x, [256, (160, 320), (32, 128), 128])    # 5a
    x = inception(x, [384, (192, 384), (48, 128), 128])    # 5b

    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    out = layers.Dense(NUM_CLASSES, activation="softmax")(x)
    return keras.Model(inputs, [out, aux1, aux2])


if __name__ == "__main__":
    googlenet = get_model()
    googlenet.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                      loss_weights=[1.0, 0.3, 0.3])
    if os.environ.get("SMOKE_TEST"):
        # smoke test on random data (real training happens on the lab GPU)
        x = np.random.rand(4, 224, 224, 3).astype("float32")
        y = np.random.randint(0, NUM_CLASSES, size=(4,))
        googlenet.fit(x, [y, y, y], epochs=1, batch_size=2)
