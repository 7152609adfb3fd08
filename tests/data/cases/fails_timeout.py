# expect: timeout data
# status: failed
import os
import time

import tensorflow as tf
from tensorflow.keras import layers, Model

# wait until the shared lab GPU is free before building anything
gpus = tf.config.list_physical_devices("GPU")
while True: pass

def inception(x, f1, f3r, f3, f5r, f5, fp):
    a = layers.Conv2D(f1, 1, padding="same", activation="relu")(x)
    b = layers.Conv2D(f3r, 1, padding="same", activation="relu")(x)
    b = layers.Conv2D(f3, 3, padding="same", activation="relu")(b)
    c = layers.Conv2D(f5r, 1, padding="same", activation="relu")(x)
    c = layers.Conv2D(f5, 5, padding="same", activation="relu")(c)
    d = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    d = layers.Conv2D(fp, 1, padding="same", activation="relu")(d)
    return layers.Concatenate()([a, b, c, d])


inp = layers.Input((224, 224, 3))
x = layers.Conv2D(64, 7, strides=2, padding="same", activation="relu")(inp)
x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
x = inception(x, 64, 96, 128, 16, 32, 32)
x = layers.GlobalAveragePooling2D()(x)
model = Model(inp, layers.Dense(1000, activation="softmax")(x))
