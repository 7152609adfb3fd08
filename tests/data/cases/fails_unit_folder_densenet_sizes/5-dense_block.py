# assignment: dense_block
# params: 339264
# returns: 256
# fault: none
# expect: nothing
#!/usr/bin/env python3
"""Dense block"""
from tensorflow import keras as K


def dense_block(X, nb_filters, growth_rate, layers):
    """
    Builds a dense block as described in Densely Connected Convolutional
    Networks, using the bottleneck layers of DenseNet-B

    X is the output from the previous layer
    nb_filters is an integer representing the number of filters in X
    growth_rate is the growth rate for the dense block
    layers is the number of layers in the dense block
    All convolutions are preceded by batch normalization and a ReLU,
    weights use he normal initialization

    Returns: the concatenated output of each layer within the dense block
        and the number of filters within the concatenated outputs
    """
    he = K.initializers.he_normal()
    for _ in range(layers):
        Y = K.layers.BatchNormalization()(X)
        Y = K.layers.Activation('relu')(Y)
        Y = K.layers.Conv2D(4 * growth_rate, 1, padding='same',
                            kernel_initializer=he)(Y)
        Y = K.layers.BatchNormalization()(Y)
        Y = K.layers.Activation('relu')(Y)
        Y = K.layers.Conv2D(growth_rate, 3, padding='same',
                            kernel_initializer=he)(Y)
        X = K.layers.concatenate([X, Y])
        nb_filters += growth_rate
    return X, nb_filters
