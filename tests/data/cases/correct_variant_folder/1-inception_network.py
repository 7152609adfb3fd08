# expect: nothing
# assignment: variant
# params: 6998552
#!/usr/bin/env python3
"""Module containing inception_network"""
import tensorflow.keras as K
inception_block = __import__('0-inception_block').inception_block


def inception_network():
    """
    Builds the inception network as described in Going Deeper with
    Convolutions (2014)

    The input data has shape (224, 224, 3)
    All convolutions inside and outside the inception block use a
    rectified linear activation (ReLU)

    Returns: the keras model
    """
    init = K.initializers.he_normal()
    X = K.Input(shape=(224, 224, 3))

    Y = K.layers.Conv2D(64, (7, 7), strides=(2, 2), padding='same',
                        activation='relu', kernel_initializer=init)(X)
    Y = K.layers.MaxPooling2D((3, 3), strides=(2, 2), padding='same')(Y)
    Y = K.layers.Conv2D(64, (1, 1), padding='same', activation='relu',
                        kernel_initializer=init)(Y)
    Y = K.layers.Conv2D(192, (3, 3), padding='same', activation='relu',
                        kernel_initializer=init)(Y)
    Y = K.layers.MaxPooling2D((3, 3), strides=(2, 2), padding='same')(Y)

    Y = inception_block(Y, [64, 96, 128, 16, 32, 32])
    Y = inception_block(Y, [128, 128, 192, 32, 96, 64])
    Y = K.layers.MaxPooling2D((3, 3), strides=(2, 2), padding='same')(Y)

    Y = inception_block(Y, [192, 96, 208, 16, 48, 64])
    Y = inception_block(Y, [160, 112, 224, 24, 64, 64])
    Y = inception_block(Y, [128, 128, 256, 24, 64, 64])
    Y = inception_block(Y, [112, 144, 288, 32, 64, 64])
    Y = inception_block(Y, [256, 160, 320, 32, 128, 128])
    Y = K.layers.MaxPooling2D((3, 3), strides=(2, 2), padding='same')(Y)

    Y = inception_block(Y, [256, 160, 320, 32, 128, 128])
    Y = inception_block(Y, [384, 192, 384, 48, 128, 128])

    Y = K.layers.AveragePooling2D((7, 7), strides=(1, 1),
                                  padding='valid')(Y)
    Y = K.layers.Dropout(0.4)(Y)
    Y = K.layers.Dense(1000, activation='softmax',
                       kernel_initializer=init)(Y)

    return K.models.Model(inputs=X, outputs=Y)
