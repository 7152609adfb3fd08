# expect: pool_size loss1/ave_pool
# expect-info: legacy_api data
# My port of GoogLeNet from a Keras 2 tutorial. In the auxiliary heads I only set
# the stride of the average pool (3), like the tutorial did.
from tensorflow import nn
from tensorflow.keras import Model, Input
from tensorflow.keras.layers import (AveragePooling2D, Concatenate, Conv2D, Dense, Dropout, Flatten,
                                     GlobalAveragePooling2D, Lambda, MaxPooling2D)

TABLE1 = [
    # name     #1x1 #3x3r #3x3 #5x5r #5x5 proj
    ("inc3a", 64, 96, 128, 16, 32, 32),
    ("inc3b", 128, 128, 192, 32, 96, 64),
    ("pool3",),
    ("inc4a", 192, 96, 208, 16, 48, 64),
    ("aux1",),
    ("inc4b", 160, 112, 224, 24, 64, 64),
    ("inc4c", 128, 128, 256, 24, 64, 64),
    ("inc4d", 112, 144, 288, 32, 64, 64),
    ("aux2",),
    ("inc4e", 256, 160, 320, 32, 128, 128),
    ("pool4",),
    ("inc5a", 256, 160, 320, 32, 128, 128),
    ("inc5b", 384, 192, 384, 48, 128, 128),
]


def relu_conv(filters, size, stride=1):
    return Conv2D(filters, size, strides=stride, padding='same', activation='relu')


def lrn(t):
    return nn.local_response_normalization(t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75)


def auxiliary(t):
    t = AveragePooling2D(strides=3)(t)
    t = relu_conv(128, 1)(t)
    t = Flatten()(t)
    t = Dense(1024, activation='relu')(t)
    t = Dropout(0.7)(t)
    return Dense(1000, activation='softmax')(t)


def module(t, n1, r3, n3, r5, n5, proj):
    one = relu_conv(n1, 1)(t)
    three = relu_conv(n3, 3)(relu_conv(r3, 1)(t))
    five = relu_conv(n5, 5)(relu_conv(r5, 1)(t))
    pool = relu_conv(proj, 1)(MaxPooling2D(3, strides=1, padding='same')(t))
    return Concatenate()([one, three, five, pool])


data = Input(shape=(224, 224, 3))
t = relu_conv(64, 7, 2)(data)
t = MaxPooling2D(3, strides=2, padding='same')(t)
t = Lambda(lrn)(t)
t = relu_conv(64, 1)(t)
t = relu_conv(192, 3)(t)
t = Lambda(lrn)(t)
t = MaxPooling2D(3, strides=2, padding='same')(t)
side = []
for row in TABLE1:
    if row[0].startswith('pool'):
        t = MaxPooling2D(3, strides=2, padding='same')(t)
    elif row[0].startswith('aux'):
        side.append(auxiliary(t))
    else:
        t = module(t, *row[1:])
t = GlobalAveragePooling2D()(t)
t = Dropout(0.4)(t)
model = Model(data, [Dense(1000, activation='softmax')(t)] + side)
