# assignment: identity_block
# fault: the addition is left out: the three convolutions are a plain chain and A_prev is never added back
# expect: layer_missing identity_block/add
#!/usr/bin/env python3
"""Identity block"""
from tensorflow import keras as K


def identity_block(A_prev, filters):
    """
    Builds an identity block as described in Deep Residual Learning for
    Image Recognition (2015)

    A_prev is the output from the previous layer
    filters is a tuple or list containing F11, F3, F12, respectively:
        F11 is the number of filters in the first 1x1 convolution
        F3 is the number of filters in the 3x3 convolution
        F12 is the number of filters in the second 1x1 convolution
    All convolutions inside the block are followed by batch normalization
    along the channels axis and a rectified linear activation (ReLU)
    All weights use he normal initialization

    Returns: the activated output of the identity block
    """
    F11, F3, F12 = filters
    he = K.initializers.he_normal()

    out = K.layers.Conv2D(F11, 1, padding='same', kernel_initializer=he)(A_prev)
    out = K.layers.BatchNormalization(axis=3)(out)
    out = K.layers.Activation('relu')(out)

    out = K.layers.Conv2D(F3, 3, padding='same', kernel_initializer=he)(out)
    out = K.layers.BatchNormalization(axis=3)(out)
    out = K.layers.Activation('relu')(out)

    out = K.layers.Conv2D(F12, 1, padding='same', kernel_initializer=he)(out)
    out = K.layers.BatchNormalization(axis=3)(out)

    return K.layers.Activation('relu')(out)
