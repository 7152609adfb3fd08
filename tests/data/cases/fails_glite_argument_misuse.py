# solution: googlenet_lite
# line: argument_misuse concat_block/b3/conv2 22
# expect: argument_misuse concat_block/b3/conv2
# The course's signature, but the 5x5 branch takes its filters from f3, the
# 3x3's argument (a copy-paste of the line above): every block's 5x5 is wrong
# by a different amount, and the probe of inception() names the argument.
import keras
from keras import layers


def conv_bn(x, filters, kernel):
    x = layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def inception(x, f1, f3r, f3, f5r, f5, fp):
    b1 = conv_bn(x, f1, 1)
    b2 = conv_bn(x, f3r, 1)
    b2 = conv_bn(b2, f3, 3)
    b3 = conv_bn(x, f5r, 1)
    b3 = conv_bn(b3, f3, 5)
    b4 = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    b4 = conv_bn(b4, fp, 1)
    return layers.Concatenate()([b1, b2, b3, b4])


inputs = keras.Input((32, 32, 3))
x = conv_bn(inputs, 64, 3)
x = inception(x, 32, 48, 64, 8, 16, 16)
x = inception(x, 64, 64, 96, 16, 48, 32)
x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
x = inception(x, 96, 48, 104, 8, 24, 32)
x = inception(x, 80, 56, 112, 12, 32, 32)
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
