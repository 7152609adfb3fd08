# expect: aux_missing loss1
# expect: aux_missing loss2
# params: 6998552
# GoogLeNet / Inception v1: the inception module is a custom layer written with keras.ops.
import keras
import tensorflow as tf
from keras import ops
from keras.layers import (Conv2D, MaxPooling2D, AveragePooling2D, Dense, Dropout,
                          Flatten, GlobalAveragePooling2D, Input, Layer)


class LocalResponseNormalization(Layer):
    """Cross-channel LRN as in AlexNet/GoogLeNet (caffe: local_size 5, alpha 1e-4, beta 0.75).

    keras.ops has no LRN, so this one layer calls TensorFlow directly."""

    def __init__(self, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75, **kw):
        super().__init__(**kw)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, x):
        return tf.nn.local_response_normalization(x, depth_radius=self.depth_radius, bias=self.bias,
                                                  alpha=self.alpha, beta=self.beta)


class InceptionModule(Layer):
    def __init__(self, n1, n3r, n3, n5r, n5, npool, **kw):
        super().__init__(**kw)
        self.conv_1x1 = Conv2D(n1, 1, padding="same")
        self.conv_3x3_reduce = Conv2D(n3r, 1, padding="same")
        self.conv_3x3 = Conv2D(n3, 3, padding="same")
        self.conv_5x5_reduce = Conv2D(n5r, 1, padding="same")
        self.conv_5x5 = Conv2D(n5, 5, padding="same")
        self.pool = MaxPooling2D(3, strides=1, padding="same")
        self.pool_proj = Conv2D(npool, 1, padding="same")

    def call(self, x):
        a = ops.relu(self.conv_1x1(x))
        b = ops.relu(self.conv_3x3(ops.relu(self.conv_3x3_reduce(x))))
        c = ops.relu(self.conv_5x5(ops.relu(self.conv_5x5_reduce(x))))
        d = ops.relu(self.pool_proj(self.pool(x)))
        return ops.concatenate([a, b, c, d], axis=-1)


def aux_head(x, prefix):
    y = AveragePooling2D(5, strides=3, name=prefix + "_avgpool")(x)
    y = Conv2D(128, 1, activation="relu", name=prefix + "_conv")(y)
    y = Flatten(name=prefix + "_flatten")(y)
    y = Dense(1024, activation="relu", name=prefix + "_fc")(y)
    y = Dropout(0.7, name=prefix + "_dropout")(y)
    return Dense(1000, activation="softmax", name=prefix + "_out")(y)


# quick sanity check of one module on a 28x28x192 map (inception 3a)
_probe = Input((28, 28, 192))
block_test = keras.Model(_probe, InceptionModule(64, 96, 128, 16, 32, 32)(_probe))
assert block_test.output_shape == (None, 28, 28, 256)

image = Input((224, 224, 3))
h = Conv2D(64, 7, strides=2, padding="same", activation="relu")(image)
h = MaxPooling2D(3, strides=2, padding="same")(h)
h = LocalResponseNormalization()(h)
h = Conv2D(64, 1, activation="relu")(h)
h = Conv2D(192, 3, padding="same", activation="relu")(h)
h = LocalResponseNormalization()(h)
h = MaxPooling2D(3, strides=2, padding="same")(h)
h = InceptionModule(64, 96, 128, 16, 32, 32, name="inception_3a")(h)
h = InceptionModule(128, 128, 192, 32, 96, 64, name="inception_3b")(h)
h = MaxPooling2D(3, strides=2, padding="same")(h)
h = InceptionModule(192, 96, 208, 16, 48, 64, name="inception_4a")(h)
aux_a = aux_head(h, "aux_a")
h = InceptionModule(160, 112, 224, 24, 64, 64, name="inception_4b")(h)
h = InceptionModule(128, 128, 256, 24, 64, 64, name="inception_4c")(h)
h = InceptionModule(112, 144, 288, 32, 64, 64, name="inception_4d")(h)
aux_b = aux_head(h, "aux_b")
h = InceptionModule(256, 160, 320, 32, 128, 128, name="inception_4e")(h)
h = MaxPooling2D(3, strides=2, padding="same")(h)
h = InceptionModule(256, 160, 320, 32, 128, 128, name="inception_5a")(h)
h = InceptionModule(384, 192, 384, 48, 128, 128, name="inception_5b")(h)
h = GlobalAveragePooling2D()(h)
h = Dropout(0.4)(h)
probs = Dense(1000, activation="softmax")(h)

inception_v1 = keras.Model(image, probs, name="inception_v1")
