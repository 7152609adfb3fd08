# expect: strides conv2/3x3
# expect-info: legacy_api data
# A Keras 1.1 script (dim_ordering and init on every layer), with one slip: the 3x3
# convolution of conv2 subsamples by 2, where GoogLeNet's conv2 keeps the resolution.
from keras.layers import Input, Flatten, Dense, Dropout, Lambda, merge
from keras.layers.convolutional import Convolution2D, MaxPooling2D, AveragePooling2D
from keras.layers.pooling import GlobalAveragePooling2D
from keras.models import Model
import tensorflow as tf

ORD = 'tf'


def cv(x, nb, r, c, sub=(1, 1)):
    return Convolution2D(nb, r, c, subsample=sub, border_mode='same', activation='relu',
                         init='glorot_uniform', bias=True, dim_ordering=ORD)(x)


def mp(x, stride):
    return MaxPooling2D(pool_size=(3, 3), strides=(stride, stride), border_mode='same', dim_ordering=ORD)(x)


def module(x, a, b, c, d, e, f):
    return merge([cv(x, a, 1, 1), cv(cv(x, b, 1, 1), c, 3, 3), cv(cv(x, d, 1, 1), e, 5, 5), cv(mp(x, 1), f, 1, 1)],
                 mode='concat', concat_axis=-1)


def aux(x):
    x = AveragePooling2D(pool_size=(5, 5), strides=(3, 3), dim_ordering=ORD)(x)
    x = Flatten()(cv(x, 128, 1, 1))
    x = Dropout(p=0.7)(Dense(output_dim=1024, activation='relu', init='glorot_uniform')(x))
    return Dense(output_dim=1000, activation='softmax')(x)


norm = Lambda(lambda t: tf.nn.local_response_normalization(t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75))

inp = Input(shape=(224, 224, 3))
x = cv(inp, 64, 7, 7, sub=(2, 2))
x = norm(mp(x, 2))
x = cv(x, 64, 1, 1)
x = Convolution2D(192, 3, 3, subsample=(2, 2), border_mode='same', activation='relu', dim_ordering=ORD)(x)
x = mp(Lambda(lambda t: tf.nn.local_response_normalization(t, 2, 1.0, 2e-5, 0.75))(x), 2)
x = module(x, 64, 96, 128, 16, 32, 32)
x = module(x, 128, 128, 192, 32, 96, 64)
x = mp(x, 2)
x = module(x, 192, 96, 208, 16, 48, 64)
a1 = aux(x)
x = module(x, 160, 112, 224, 24, 64, 64)
x = module(x, 128, 128, 256, 24, 64, 64)
x = module(x, 112, 144, 288, 32, 64, 64)
a2 = aux(x)
x = module(x, 256, 160, 320, 32, 128, 128)
x = mp(x, 2)
x = module(x, 256, 160, 320, 32, 128, 128)
x = module(x, 384, 192, 384, 48, 128, 128)
x = GlobalAveragePooling2D(dim_ordering=ORD)(x)
x = Dropout(p=0.4)(x)
y = Dense(output_dim=1000, activation='softmax')(x)
model = Model(input=inp, output=[y, a1, a2])
