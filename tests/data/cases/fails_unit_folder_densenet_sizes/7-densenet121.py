# assignment: densenet121_course
# fault: the dense blocks' sizes are (6, 12, 32, 32) where Table 1 has (6, 12, 24, 16): 8 extra dense layers in conv4 and 16 in conv5, set by the tuple of the loop
# expect: layer_extra conv4_block24
#!/usr/bin/env python3
"""DenseNet-121"""
from tensorflow import keras as K
dense_block = __import__('5-dense_block').dense_block
transition_layer = __import__('6-transition_layer').transition_layer


def densenet121(growth_rate=32, compression=1.0):
    """
    Builds the DenseNet-121 architecture as described in Densely Connected
    Convolutional Networks

    growth_rate is the growth rate
    compression is the compression factor
    The input data has shape (224, 224, 3)
    All convolutions are preceded by batch normalization and a ReLU,
    weights use he normal initialization

    Returns: the keras model
    """
    he = K.initializers.he_normal()
    X = K.Input(shape=(224, 224, 3))

    Y = K.layers.BatchNormalization()(X)
    Y = K.layers.Activation('relu')(Y)
    Y = K.layers.Conv2D(2 * growth_rate, 7, strides=2, padding='same',
                        kernel_initializer=he)(Y)
    Y = K.layers.MaxPooling2D(3, strides=2, padding='same')(Y)
    nb_filters = 2 * growth_rate

    for i, layers in enumerate([6, 12, 32, 32]):
        Y, nb_filters = dense_block(Y, nb_filters, growth_rate, layers)
        if i < 3:
            Y, nb_filters = transition_layer(Y, nb_filters, compression)

    Y = K.layers.AveragePooling2D(7)(Y)
    Y = K.layers.Dense(1000, activation='softmax', kernel_initializer=he)(Y)

    return K.models.Model(inputs=X, outputs=Y)
