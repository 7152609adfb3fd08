# assignment: densenet121
# fault: conv3's dense block is called with 10 layers where Table 1 has 12: two dense layers missing, one mistake at that call
# expect: layer_missing conv3_block11
"""DenseNet-121 (Huang et al. 2017, Table 1), functional API with helpers; conv3 too short.

conv_block       one BN-ReLU-Conv1x1(4k)-BN-ReLU-Conv3x3(k) layer, concatenated onto its input
dense_block      `blocks` conv_blocks in a row
transition_block BN-ReLU-Conv1x1(theta * channels)-AvgPool 2x2/2
"""
import tensorflow as tf
from tensorflow.keras import layers, Model

GROWTH_RATE = 32
COMPRESSION = 0.5


def conv_block(x, growth_rate):
    y = layers.BatchNormalization(axis=3, epsilon=1.001e-5)(x)
    y = layers.Activation('relu')(y)
    y = layers.Conv2D(4 * growth_rate, 1, use_bias=False)(y)
    y = layers.BatchNormalization(axis=3, epsilon=1.001e-5)(y)
    y = layers.Activation('relu')(y)
    y = layers.Conv2D(growth_rate, 3, padding='same', use_bias=False)(y)
    return layers.Concatenate(axis=3)([x, y])


def dense_block(x, blocks):
    for _ in range(blocks):
        x = conv_block(x, GROWTH_RATE)
    return x


def transition_block(x, reduction):
    channels = x.shape[-1]
    x = layers.BatchNormalization(axis=3, epsilon=1.001e-5)(x)
    x = layers.Activation('relu')(x)
    x = layers.Conv2D(int(channels * reduction), 1, use_bias=False)(x)
    x = layers.AveragePooling2D(2, strides=2)(x)
    return x


def DenseNet121(input_shape=(224, 224, 3), classes=1000):
    img = layers.Input(shape=input_shape)
    x = layers.Conv2D(64, 7, strides=2, padding='same', use_bias=False)(img)
    x = layers.BatchNormalization(axis=3, epsilon=1.001e-5)(x)
    x = layers.Activation('relu')(x)
    x = layers.MaxPooling2D(3, strides=2, padding='same')(x)

    x = dense_block(x, 6)
    x = transition_block(x, COMPRESSION)
    x = dense_block(x, 10)
    x = transition_block(x, COMPRESSION)
    x = dense_block(x, 24)
    x = transition_block(x, COMPRESSION)
    x = dense_block(x, 16)

    x = layers.BatchNormalization(axis=3, epsilon=1.001e-5)(x)
    x = layers.Activation('relu')(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(classes, activation='softmax')(x)
    return Model(img, x, name='densenet121')


model = DenseNet121()

if __name__ == '__main__':
    model.summary()
