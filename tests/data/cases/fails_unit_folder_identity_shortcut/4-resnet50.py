# assignment: resnet50_course
# fault: none in this file; (in 2-identity_block.py) every identity block adds the output of its own last 1x1 convolution instead of its input
# expect: shortcut_source identity_block/add
#!/usr/bin/env python3
"""ResNet-50"""
from tensorflow import keras as K
identity_block = __import__('2-identity_block').identity_block
projection_block = __import__('3-projection_block').projection_block


def resnet50():
    """
    Builds the ResNet-50 architecture as described in Deep Residual
    Learning for Image Recognition (2015)

    The input data has shape (224, 224, 3)
    All convolutions inside and outside the blocks are followed by batch
    normalization along the channels axis and a ReLU
    All weights use he normal initialization

    Returns: the keras model
    """
    he = K.initializers.he_normal()
    X = K.Input(shape=(224, 224, 3))

    Y = K.layers.Conv2D(64, 7, strides=2, padding='same',
                        kernel_initializer=he)(X)
    Y = K.layers.BatchNormalization(axis=3)(Y)
    Y = K.layers.Activation('relu')(Y)
    Y = K.layers.MaxPooling2D(3, strides=2, padding='same')(Y)

    Y = projection_block(Y, [64, 64, 256], 1)
    for _ in range(2):
        Y = identity_block(Y, [64, 64, 256])

    Y = projection_block(Y, [128, 128, 512])
    for _ in range(3):
        Y = identity_block(Y, [128, 128, 512])

    Y = projection_block(Y, [256, 256, 1024])
    for _ in range(5):
        Y = identity_block(Y, [256, 256, 1024])

    Y = projection_block(Y, [512, 512, 2048])
    for _ in range(2):
        Y = identity_block(Y, [512, 512, 2048])

    Y = K.layers.AveragePooling2D(7, padding='same')(Y)
    Y = K.layers.Dense(1000, activation='softmax', kernel_initializer=he)(Y)

    return K.models.Model(inputs=X, outputs=Y)
