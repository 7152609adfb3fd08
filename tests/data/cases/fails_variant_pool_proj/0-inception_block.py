#!/usr/bin/env python3
"""inception block"""
import tensorflow.keras as K


def inception_block(A_prev, filters):
    """builds an inception block

    A_prev is the output from the previous layer
    filters is a tuple or list containing F1, F3R, F3, F5R, F5, FPP
    Returns: the concatenated output of the inception block
    """
    he = K.initializers.HeNormal()
    relu = 'relu'

    b1 = K.layers.Conv2D(filters[0], 1, padding='same', activation=relu,
                         kernel_initializer=he)(A_prev)

    b2 = K.layers.Conv2D(filters[1], 1, padding='same', activation=relu,
                         kernel_initializer=he)(A_prev)
    b2 = K.layers.Conv2D(filters[2], 3, padding='same', activation=relu,
                         kernel_initializer=he)(b2)

    b3 = K.layers.Conv2D(filters[3], 1, padding='same', activation=relu,
                         kernel_initializer=he)(A_prev)
    b3 = K.layers.Conv2D(filters[4], 5, padding='same', activation=relu,
                         kernel_initializer=he)(b3)

    b4 = K.layers.MaxPool2D(3, 1, padding='same')(A_prev)
    b4 = K.layers.Conv2D(filters[3], 1, padding='same', activation=relu,
                         kernel_initializer=he)(b4)

    return K.layers.Concatenate()([b1, b2, b3, b4])
