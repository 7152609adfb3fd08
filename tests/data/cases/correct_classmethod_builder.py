# expect: nothing
# params: 13378280
# The same network as a class with class methods: the builder is
# InceptionNet.build(width, height, depth, classes), a classmethod, never called here.
import tensorflow as tf
from tensorflow.keras.layers import (Input, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
                                     Dense, Dropout, Flatten, Lambda, concatenate)
from tensorflow.keras.models import Model
from tensorflow.keras.regularizers import l2


class InceptionNet:
    weight_decay = 0.0002

    @classmethod
    def conv_module(cls, x, k, kx, ky, stride, reg, chan_dim, padding="same"):
        return Conv2D(k, (kx, ky), strides=stride, padding=padding, activation="relu",
                      kernel_regularizer=l2(reg))(x)

    @classmethod
    def inception_module(cls, x, num1x1, num3x3reduce, num3x3, num5x5reduce, num5x5, num1x1proj, chan_dim, reg):
        first = cls.conv_module(x, num1x1, 1, 1, (1, 1), reg, chan_dim)
        second = cls.conv_module(x, num3x3reduce, 1, 1, (1, 1), reg, chan_dim)
        second = cls.conv_module(second, num3x3, 3, 3, (1, 1), reg, chan_dim)
        third = cls.conv_module(x, num5x5reduce, 1, 1, (1, 1), reg, chan_dim)
        third = cls.conv_module(third, num5x5, 5, 5, (1, 1), reg, chan_dim)
        fourth = MaxPooling2D((3, 3), strides=(1, 1), padding="same")(x)
        fourth = cls.conv_module(fourth, num1x1proj, 1, 1, (1, 1), reg, chan_dim)
        return tf.keras.layers.Concatenate(axis=chan_dim)([first, second, third, fourth])

    @classmethod
    def aux_classifier(cls, x, classes, reg):
        x = AveragePooling2D((5, 5), strides=(3, 3))(x)
        x = cls.conv_module(x, 128, 1, 1, (1, 1), reg, -1)
        x = Flatten()(x)
        x = Dense(1024, activation="relu", kernel_regularizer=l2(reg))(x)
        x = Dropout(0.7)(x)
        return Dense(classes, activation="softmax", kernel_regularizer=l2(reg))(x)

    @classmethod
    def build(cls, width, height, depth, classes):
        reg = cls.weight_decay
        chan_dim = -1
        inputs = Input(shape=(height, width, depth))
        lrn = lambda t: tf.nn.local_response_normalization(t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75)
        x = cls.conv_module(inputs, 64, 7, 7, (2, 2), reg, chan_dim)
        x = MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)
        x = Lambda(lrn)(x)
        x = cls.conv_module(x, 64, 1, 1, (1, 1), reg, chan_dim)
        x = cls.conv_module(x, 192, 3, 3, (1, 1), reg, chan_dim)
        x = Lambda(lrn)(x)
        x = MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)
        x = cls.inception_module(x, 64, 96, 128, 16, 32, 32, chan_dim, reg)
        x = cls.inception_module(x, 128, 128, 192, 32, 96, 64, chan_dim, reg)
        x = MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)
        x = cls.inception_module(x, 192, 96, 208, 16, 48, 64, chan_dim, reg)
        aux1 = cls.aux_classifier(x, classes, reg)
        x = cls.inception_module(x, 160, 112, 224, 24, 64, 64, chan_dim, reg)
        x = cls.inception_module(x, 128, 128, 256, 24, 64, 64, chan_dim, reg)
        x = cls.inception_module(x, 112, 144, 288, 32, 64, 64, chan_dim, reg)
        aux2 = cls.aux_classifier(x, classes, reg)
        x = cls.inception_module(x, 256, 160, 320, 32, 128, 128, chan_dim, reg)
        x = MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)
        x = cls.inception_module(x, 256, 160, 320, 32, 128, 128, chan_dim, reg)
        x = cls.inception_module(x, 384, 192, 384, 48, 128, 128, chan_dim, reg)
        x = GlobalAveragePooling2D()(x)
        x = Dropout(0.4)(x)
        x = Dense(classes, activation="softmax", kernel_regularizer=l2(reg))(x)
        return Model(inputs, [x, aux1, aux2], name="googlenet")
