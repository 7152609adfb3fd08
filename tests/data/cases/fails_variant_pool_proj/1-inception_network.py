# expect: argument_misuse inception/pool_proj
# assignment: variant
# params: 6447672
#!/usr/bin/env python3
"""inception network"""
import tensorflow.keras as K
inception_block = __import__('0-inception_block').inception_block


def inception_network():
    """builds the inception network (GoogLeNet, 2014)

    Returns: the keras model
    """
    he = K.initializers.HeNormal()
    inputs = K.Input(shape=(224, 224, 3))

    x = K.layers.Conv2D(64, 7, 2, padding='same', activation='relu',
                        kernel_initializer=he)(inputs)
    x = K.layers.MaxPool2D(3, 2, padding='same')(x)
    x = K.layers.Conv2D(64, 1, padding='same', activation='relu',
                        kernel_initializer=he)(x)
    x = K.layers.Conv2D(192, 3, padding='same', activation='relu',
                        kernel_initializer=he)(x)
    x = K.layers.MaxPool2D(3, 2, padding='same')(x)

    blocks = [
        (64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64), 'pool',
        (192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64),
        (128, 128, 256, 24, 64, 64), (112, 144, 288, 32, 64, 64),
        (256, 160, 320, 32, 128, 128), 'pool',
        (256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128),
    ]
    for b in blocks:
        if b == 'pool':
            x = K.layers.MaxPool2D(3, 2, padding='same')(x)
        else:
            x = inception_block(x, b)

    x = K.layers.AveragePooling2D(7, 1, padding='valid')(x)
    x = K.layers.Dropout(0.4)(x)
    outputs = K.layers.Dense(1000, activation='softmax',
                             kernel_initializer=he)(x)
    return K.Model(inputs=inputs, outputs=outputs)
