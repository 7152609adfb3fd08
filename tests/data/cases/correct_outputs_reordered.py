# expect: nothing
# params: 13378280
# Outputs as [aux1, aux2, main]; branches as nested Sequential models; tf.concat in a Lambda;
# activation given as a function object.
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def branch(*ls):
    return keras.Sequential(list(ls))


def inception(x, a, b, c, d, e, f):
    p1 = branch(layers.Conv2D(a, 1, activation=tf.nn.relu))(x)
    p2 = branch(layers.Conv2D(b, 1, activation="relu"), layers.Conv2D(c, 3, padding="same", activation="relu"))(x)
    p3 = branch(layers.Conv2D(d, 1, activation="relu"), layers.Conv2D(e, 5, padding="same", activation="relu"))(x)
    p4 = branch(layers.MaxPool2D(3, 1, padding="same"), layers.Conv2D(f, 1, activation="relu"))(x)
    return layers.Lambda(lambda t: tf.concat(t, axis=-1))([p1, p2, p3, p4])


def lrn(x):
    return layers.Lambda(lambda t: tf.nn.lrn(t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75))(x)


def aux(x):
    y = layers.AveragePooling2D(5, 3)(x)
    y = layers.Conv2D(128, 1, activation="relu")(y)
    y = layers.Flatten()(y)
    y = layers.Dense(1024, activation="relu")(y)
    y = layers.Dropout(0.7)(y)
    return layers.Dense(1000, activation="softmax")(y)


def GoogLeNet():
    inp = keras.Input((224, 224, 3))
    x = layers.Conv2D(64, 7, 2, padding="same", activation="relu")(inp)
    x = lrn(layers.MaxPool2D(3, 2, padding="same")(x))
    x = layers.Conv2D(64, 1, activation="relu")(x)
    x = lrn(layers.Conv2D(192, 3, padding="same", activation="relu")(x))
    x = layers.MaxPool2D(3, 2, padding="same")(x)
    x = inception(x, 64, 96, 128, 16, 32, 32)
    x = inception(x, 128, 128, 192, 32, 96, 64)
    x = layers.MaxPool2D(3, 2, padding="same")(x)
    x = inception(x, 192, 96, 208, 16, 48, 64)
    a1 = aux(x)
    x = inception(x, 160, 112, 224, 24, 64, 64)
    x = inception(x, 128, 128, 256, 24, 64, 64)
    x = inception(x, 112, 144, 288, 32, 64, 64)
    a2 = aux(x)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = layers.MaxPool2D(3, 2, padding="same")(x)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = inception(x, 384, 192, 384, 48, 128, 128)
    x = layers.GlobalAvgPool2D()(x)
    x = layers.Dropout(0.4)(x)
    out = layers.Dense(1000, activation="softmax")(x)
    return keras.Model(inp, [a1, a2, out])
