# solution: resnet_cifar
# line: argument_misuse identity_block/conv1 15
# expect: argument_misuse identity_block/conv1
# The course's basic_block signature; the first 3x3 was written for stage 2 and
# keeps its 32 filters (the second 3x3 brings the count back, so the network
# builds): right in stage 2, wrong in stages 1 and 3, and the probe of
# basic_block() says it is the function's hard-coded count, once for the
# function (its projection blocks have the same line).
import keras
from keras import layers


def basic_block(x, filters, stage, block, stride=1):
    tag = "s%db%d" % (stage, block)
    y = layers.Conv2D(32, 3, strides=stride, padding="same", use_bias=False, name=tag + "_conv1")(x)
    y = layers.BatchNormalization(name=tag + "_bn1")(y)
    y = layers.Activation("relu", name=tag + "_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=tag + "_conv2")(y)
    y = layers.BatchNormalization(name=tag + "_bn2")(y)
    shortcut = x
    if stride != 1:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=tag + "_proj")(x)
        shortcut = layers.BatchNormalization(name=tag + "_proj_bn")(shortcut)
    return layers.Activation("relu")(layers.add([y, shortcut]))


def resnet(input_shape=(32, 32, 3), num_classes=10):
    inp = keras.Input(input_shape)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="stem_conv")(inp)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    x = basic_block(x, 16, 1, 1)
    x = basic_block(x, 16, 1, 2)
    x = basic_block(x, 32, 2, 1, stride=2)
    x = basic_block(x, 32, 2, 2)
    x = basic_block(x, 64, 3, 1, stride=2)
    x = basic_block(x, 64, 3, 2)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inp, layers.Dense(num_classes, activation="softmax", name="predictions")(x))
