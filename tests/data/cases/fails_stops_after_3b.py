# expect: layer_missing pool3/3x3_s2
# score: <= 40
# Inception v1, work in progress: stem, 3a and 3b so far.
import keras
from keras import layers as L


def conv(x, f, k, s=1):
    return L.Conv2D(f, k, strides=s, padding="same", activation="relu")(x)


def inception(x, c1, c3r, c3, c5r, c5, pp):
    a = conv(x, c1, 1)
    b = conv(conv(x, c3r, 1), c3, 3)
    c = conv(conv(x, c5r, 1), c5, 5)
    d = conv(L.MaxPooling2D(3, strides=1, padding="same")(x), pp, 1)
    return L.Concatenate()([a, b, c, d])


x_in = keras.Input((224, 224, 3))
x = conv(x_in, 64, 7, 2)
x = L.MaxPooling2D(3, 2, padding="same")(x)
x = L.BatchNormalization()(x)
x = conv(x, 64, 1)
x = conv(x, 192, 3)
x = L.BatchNormalization()(x)
x = L.MaxPooling2D(3, 2, padding="same")(x)
x = inception(x, 64, 96, 128, 16, 32, 32)
x = inception(x, 128, 128, 192, 32, 96, 64)
x = L.GlobalAveragePooling2D()(x)
x = L.Dropout(0.4)(x)
model = keras.Model(x_in, L.Dense(1000, activation="softmax")(x))
