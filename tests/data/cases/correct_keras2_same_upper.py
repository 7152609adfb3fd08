# expect: nothing
# expect-info: legacy_api data
# params: 13378280
# Inception v1 written for Keras 2.1 + TensorFlow 1.x: TensorFlow-style upper-case
# padding, Caffe layer names (with slashes), and the Keras 1 dim-ordering switch
# that Keras 2 still honoured.
import keras
from keras import backend as K
from keras.layers import Input, Conv2D, MaxPooling2D, AveragePooling2D, Dense, Dropout, Flatten, Concatenate, Lambda
from keras.models import Model
import tensorflow as tf

K.set_image_dim_ordering('tf')
assert K.image_dim_ordering() == 'tf'
BN_AXIS = -1


def conv(x, filters, size, stride=1, name=None):
    return Conv2D(filters, (size, size), strides=(stride, stride), padding="SAME", activation="relu", name=name)(x)


def lrn(x, name):
    return Lambda(lambda t: tf.nn.local_response_normalization(t, 2, 1.0, 2e-5, 0.75), name=name)(x)


def inception_block(x, spec, scope):
    c1, c3r, c3, c5r, c5, cp = spec
    a = conv(x, c1, 1, name=scope + "/1x1")
    b = conv(conv(x, c3r, 1, name=scope + "/3x3_reduce"), c3, 3, name=scope + "/3x3")
    c = conv(conv(x, c5r, 1, name=scope + "/5x5_reduce"), c5, 5, name=scope + "/5x5")
    d = MaxPooling2D(pool_size=3, strides=1, padding="SAME", name=scope + "/pool")(x)
    d = conv(d, cp, 1, name=scope + "/pool_proj")
    return Concatenate(axis=BN_AXIS, name=scope + "/output")([a, b, c, d])


def aux_head(x, scope):
    y = AveragePooling2D(pool_size=5, strides=3, padding="VALID", name=scope + "/ave_pool")(x)
    y = conv(y, 128, 1, name=scope + "/conv")
    y = Flatten(name=scope + "/flatten")(y)
    y = Dense(1024, activation="relu", name=scope + "/fc")(y)
    y = Dropout(0.7, name=scope + "/drop_fc")(y)
    return Dense(1000, activation="softmax", name=scope + "/classifier")(y)


TABLE = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}

data = Input(shape=(224, 224, 3), name="data")
x = conv(data, 64, 7, 2, name="conv1/7x7_s2")
x = MaxPooling2D(3, strides=2, padding="SAME", name="pool1/3x3_s2")(x)
x = lrn(x, "pool1/norm1")
x = conv(x, 64, 1, name="conv2/3x3_reduce")
x = conv(x, 192, 3, name="conv2/3x3")
x = lrn(x, "conv2/norm2")
x = MaxPooling2D(3, strides=2, padding="SAME", name="pool2/3x3_s2")(x)
heads = []
for stage in ("3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"):
    x = inception_block(x, TABLE[stage], "inception_" + stage)
    if stage in ("4a", "4d"):
        heads.append(aux_head(x, "loss%d" % (len(heads) + 1)))
    if stage in ("3b", "4e"):
        x = MaxPooling2D(3, strides=2, padding="SAME", name="pool%s/3x3_s2" % (3 if stage == "3b" else 4))(x)
x = AveragePooling2D(pool_size=7, strides=1, padding="VALID", name="pool5/7x7_s1")(x)
x = Flatten(name="flatten")(x)
x = Dropout(0.4, name="pool5/drop_7x7_s1")(x)
out = Dense(1000, activation="softmax", name="loss3/classifier")(x)

model = Model(inputs=data, outputs=[out] + heads, name="inception_v1")
