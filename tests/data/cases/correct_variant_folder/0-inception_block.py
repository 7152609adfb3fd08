#!/usr/bin/env python3
"""Module containing inception_block"""
import tensorflow.keras as K


def inception_block(A_prev, filters):
    """
    Builds an inception block as described in Going Deeper with
    Convolutions (2014)

    A_prev: output from the previous layer
    filters: tuple or list containing F1, F3R, F3, F5R, F5, FPP
        F1 is the number of filters in the 1x1 convolution
        F3R is the number of filters in the 1x1 convolution before the
            3x3 convolution
        F3 is the number of filters in the 3x3 convolution
        F5R is the number of filters in the 1x1 convolution before the
            5x5 convolution
        F5 is the number of filters in the 5x5 convolution
        FPP is the number of filters in the 1x1 convolution after the
            max pooling
    All convolutions inside the inception block use a rectified linear
    activation (ReLU)

    Returns: the concatenated output of the inception block
    """
    F1, F3R, F3, F5R, F5, FPP = filters
    init = K.initializers.he_normal()

    conv_1 = K.layers.Conv2D(F1, (1, 1), padding='same', activation='relu',
                             kernel_initializer=init)(A_prev)

    conv_3r = K.layers.Conv2D(F3R, (1, 1), padding='same',
                              activation='relu',
                              kernel_initializer=init)(A_prev)
    conv_3 = K.layers.Conv2D(F3, (3, 3), padding='same', activation='relu',
                             kernel_initializer=init)(conv_3r)

    conv_5r = K.layers.Conv2D(F5R, (1, 1), padding='same',
                              activation='relu',
                              kernel_initializer=init)(A_prev)
    conv_5 = K.layers.Conv2D(F5, (5, 5), padding='same', activation='relu',
                             kernel_initializer=init)(conv_5r)

    pool = K.layers.MaxPooling2D((3, 3), strides=(1, 1),
                                 padding='same')(A_prev)
    conv_pp = K.layers.Conv2D(FPP, (1, 1), padding='same',
                              activation='relu',
                              kernel_initializer=init)(pool)

    return K.layers.concatenate([conv_1, conv_3, conv_5, conv_pp])
