"""The course's GoogLeNet-lite for CIFAR-10 (32x32x3, 10 classes): a 3x3 stem
with BatchNorm, two stages of inception blocks (4 branches, concatenated)
with a max pool between them, global average pooling and one Dense. The
layers keep Keras's default names: the grader names them from the structure."""

import keras
from keras import layers


def conv_bn(x, filters, kernel):
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def inception(x, f1, f3r, f3, f5r, f5, fp):
    b1 = conv_bn(x, f1, 1)
    b2 = conv_bn(conv_bn(x, f3r, 1), f3, 3)
    b3 = conv_bn(conv_bn(x, f5r, 1), f5, 5)
    b4 = conv_bn(layers.MaxPooling2D(3, strides=1, padding="same")(x), fp, 1)
    return layers.Concatenate()([b1, b2, b3, b4])


def googlenet_lite(input_shape=(32, 32, 3), num_classes=10):
    inputs = keras.Input(input_shape)
    x = conv_bn(inputs, 64, 3)
    x = inception(x, 32, 48, 64, 8, 16, 16)     # 128 channels
    x = inception(x, 64, 64, 96, 16, 48, 32)    # 240
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = inception(x, 96, 48, 104, 8, 24, 32)    # 256
    x = inception(x, 80, 56, 112, 12, 32, 32)   # 256
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


model = googlenet_lite()
