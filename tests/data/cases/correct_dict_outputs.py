# expect: nothing
# params: 13378280
# Outputs as a dict, softmax as separate layers, keyword-only layer arguments with
# padding="SAME", LRN as a small Layer, global average pool with keras.ops.mean.
import keras
import tensorflow as tf
from keras import layers


class LRN(layers.Layer):
    def call(self, x):
        return tf.nn.local_response_normalization(x, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75)


def cbr(x, filters, kernel, strides=1):
    x = layers.Conv2D(filters=filters, kernel_size=(kernel, kernel), strides=(strides, strides), padding="SAME")(x)
    return layers.ReLU()(x)


def inception_module(x, n1, n3r, n3, n5r, n5, proj):
    a = cbr(x, n1, 1)
    b = cbr(cbr(x, n3r, 1), n3, 3)
    c = cbr(cbr(x, n5r, 1), n5, 5)
    d = cbr(layers.MaxPooling2D(3, strides=1, padding="same")(x), proj, 1)
    return layers.concatenate([a, b, c, d])


def aux_head(x):
    y = layers.AveragePooling2D(5, strides=3)(x)
    y = cbr(y, 128, 1)
    y = layers.Flatten()(y)
    y = layers.Dense(1024, activation="relu")(y)
    y = layers.Dropout(0.7)(y)
    y = layers.Dense(1000)(y)
    return layers.Softmax()(y)


inputs = keras.Input(shape=(224, 224, 3))
x = cbr(inputs, 64, 7, 2)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = LRN()(x)
x = cbr(x, 64, 1)
x = cbr(x, 192, 3)
x = LRN()(x)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
for cfg in [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64)]:
    x = inception_module(x, *cfg)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = inception_module(x, 192, 96, 208, 16, 48, 64)
aux1 = aux_head(x)
for cfg in [(160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64), (112, 144, 288, 32, 64, 64)]:
    x = inception_module(x, *cfg)
aux2 = aux_head(x)
x = inception_module(x, 256, 160, 320, 32, 128, 128)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = inception_module(x, 256, 160, 320, 32, 128, 128)
x = inception_module(x, 384, 192, 384, 48, 128, 128)
x = layers.Lambda(lambda t: keras.ops.mean(t, axis=[1, 2]))(x)
x = layers.Dropout(0.4)(x)
x = layers.Dense(1000)(x)
outputs = layers.Activation("softmax", name="main")(x)
model = keras.Model(inputs, {"main": outputs, "aux_a": aux1, "aux_b": aux2})
