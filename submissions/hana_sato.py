# Hana Sato -- Inception v1 in Keras 3 (keras.ops inside the inception layer)
import keras
from keras import layers, ops


class LRN(layers.Layer):
    # the only TensorFlow call: keras.ops has no local response normalization
    def call(self, x):
        import tensorflow as tf
        return tf.nn.local_response_normalization(x, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75)


class Inception(layers.Layer):
    def __init__(self, n1x1, n3x3_reduce, n3x3, n5x5_reduce, n5x5, pool_proj, **kw):
        super().__init__(**kw)
        self.c1 = layers.Conv2D(n1x1, 1)
        self.c3r = layers.Conv2D(n3x3_reduce, 1)
        self.c3 = layers.Conv2D(n3x3, 3, padding="same")
        self.c5r = layers.Conv2D(n5x5_reduce, 1)
        self.c5 = layers.Conv2D(n5x5, 5, padding="same")
        self.pool = layers.MaxPooling2D(3, strides=1, padding="same")
        self.proj = layers.Conv2D(n5x5_reduce, 1)

    def call(self, x):
        y1 = ops.relu(self.c1(x))
        y2 = ops.relu(self.c3(ops.relu(self.c3r(x))))
        y3 = ops.relu(self.c5(ops.relu(self.c5r(x))))
        y4 = ops.relu(self.proj(self.pool(x)))
        return ops.concatenate([y1, y2, y3, y4], axis=-1)


def aux(x):
    x = layers.AveragePooling2D(5, 3)(x)
    x = layers.Conv2D(128, 1, activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    x = layers.Dropout(0.7)(x)
    return layers.Dense(1000, activation="softmax")(x)


inp = keras.Input((224, 224, 3))
x = layers.Conv2D(64, 7, 2, padding="same", activation="relu")(inp)
x = LRN()(layers.MaxPooling2D(3, 2, padding="same")(x))
x = layers.Conv2D(64, 1, activation="relu")(x)
x = LRN()(layers.Conv2D(192, 3, padding="same", activation="relu")(x))
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = Inception(64, 96, 128, 16, 32, 32)(x)
x = Inception(128, 128, 192, 32, 96, 64)(x)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = Inception(192, 96, 208, 16, 48, 64)(x)
o1 = aux(x)
x = Inception(160, 112, 224, 24, 64, 64)(x)
x = Inception(128, 128, 256, 24, 64, 64)(x)
x = Inception(112, 144, 288, 32, 64, 64)(x)
o2 = aux(x)
x = Inception(256, 160, 320, 32, 128, 128)(x)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = Inception(256, 160, 320, 32, 128, 128)(x)
x = Inception(384, 192, 384, 48, 128, 128)(x)
x = layers.Dropout(0.4)(layers.GlobalAveragePooling2D()(x))
o = layers.Dense(1000, activation="softmax")(x)
net = keras.Model(inp, [o, o1, o2])
