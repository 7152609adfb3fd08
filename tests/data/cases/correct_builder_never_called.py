# expect: nothing
# params: 13378280
"""GoogLeNet in the style of keras.applications (weights loaded when given)."""
import tensorflow as tf
from tensorflow.keras.layers import (Activation, AveragePooling2D, BatchNormalization, Concatenate, Conv2D,
                                     Dense, Dropout, Flatten, GlobalAveragePooling2D, Input, Lambda, MaxPooling2D)
from tensorflow.keras.models import Model


def _conv(x, filters, size, strides=1, use_bn=False):
    if use_bn:
        x = Conv2D(filters, size, strides=strides, padding='same', use_bias=False)(x)
        return Activation('relu')(BatchNormalization()(x))
    return Conv2D(filters, size, strides=strides, padding='same', activation='relu')(x)


def _inception(x, f, use_bn):
    return Concatenate()([
        _conv(x, f[0], 1, use_bn=use_bn),
        _conv(_conv(x, f[1], 1, use_bn=use_bn), f[2], 3, use_bn=use_bn),
        _conv(_conv(x, f[3], 1, use_bn=use_bn), f[4], 5, use_bn=use_bn),
        _conv(MaxPooling2D(3, strides=1, padding='same')(x), f[5], 1, use_bn=use_bn),
    ])


def _aux(x, use_bn):
    x = _conv(AveragePooling2D(5, strides=3)(x), 128, 1, use_bn=use_bn)
    x = Dropout(0.7)(Dense(1024, activation='relu')(Flatten()(x)))
    return Dense(1000, activation='softmax')(x)


def googleNet(shape, weights_path, use_bn=False):
    lrn = Lambda(lambda t: tf.nn.local_response_normalization(t, 2, 1.0, 2e-5, 0.75))
    inputs = Input(shape=shape)
    x = _conv(inputs, 64, 7, strides=2, use_bn=use_bn)
    x = MaxPooling2D(3, strides=2, padding='same')(x)
    x = lrn(x)
    x = _conv(_conv(x, 64, 1, use_bn=use_bn), 192, 3, use_bn=use_bn)
    x = Lambda(lambda t: tf.nn.local_response_normalization(t, 2, 1.0, 2e-5, 0.75))(x)
    x = MaxPooling2D(3, strides=2, padding='same')(x)
    x = _inception(x, (64, 96, 128, 16, 32, 32), use_bn)
    x = _inception(x, (128, 128, 192, 32, 96, 64), use_bn)
    x = MaxPooling2D(3, strides=2, padding='same')(x)
    x = _inception(x, (192, 96, 208, 16, 48, 64), use_bn)
    aux1 = _aux(x, use_bn)
    for f in ((160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64), (112, 144, 288, 32, 64, 64)):
        x = _inception(x, f, use_bn)
    aux2 = _aux(x, use_bn)
    x = _inception(x, (256, 160, 320, 32, 128, 128), use_bn)
    x = MaxPooling2D(3, strides=2, padding='same')(x)
    x = _inception(x, (256, 160, 320, 32, 128, 128), use_bn)
    x = _inception(x, (384, 192, 384, 48, 128, 128), use_bn)
    x = Dropout(0.4)(GlobalAveragePooling2D()(x))
    model = Model(inputs, [Dense(1000, activation='softmax')(x), aux1, aux2], name='googlenet')
    if weights_path:
        model.load_weights(weights_path)
    return model
