# assignment: transition_layer
# fault: the compression is ignored: the 1x1 convolution keeps all nb_filters channels (256 instead of 128), and that count is what the function returns
# expect: filters transition_layer/1_conv
#!/usr/bin/env python3
"""Transition layer"""
from tensorflow import keras as K


def transition_layer(X, nb_filters, compression):
    """
    Builds a transition layer as described in Densely Connected
    Convolutional Networks, with the compression of DenseNet-C

    X is the output from the previous layer
    nb_filters is an integer representing the number of filters in X
    compression is the compression factor for the transition layer
    The convolution is preceded by batch normalization and a ReLU,
    weights use he normal initialization

    Returns: the output of the transition layer and the number of filters
        within the output
    """
    nb_filters = int(nb_filters)
    Y = K.layers.BatchNormalization()(X)
    Y = K.layers.Activation('relu')(Y)
    Y = K.layers.Conv2D(nb_filters, 1, padding='same',
                        kernel_initializer=K.initializers.he_normal())(Y)
    Y = K.layers.AveragePooling2D(2, strides=2)(Y)
    return Y, nb_filters
