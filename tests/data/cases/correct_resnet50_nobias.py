# assignment: resnet50
# params: 25610152
# fault: none
# expect: nothing
# ResNet-50 the way the authors' Caffe model has it: no bias in the convolutions
# (every conv is followed by BatchNorm, which has its own offset), ReLU layers,
# Keras-style names. 26,560 fewer parameters than keras.applications.ResNet50.
import keras
from keras import layers


def conv_bn(x, filters, kernel, name, strides=1, act=True):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False,
                      name=name + "_conv")(x)
    x = layers.BatchNormalization(epsilon=1e-5, name=name + "_bn")(x)
    if act:
        x = layers.ReLU(name=name + "_relu")(x)
    return x


def block(x, filters, name, strides=1, shortcut_conv=False):
    f1, f2, f3 = filters
    if shortcut_conv:
        shortcut = conv_bn(x, f3, 1, name + "_0", strides=strides, act=False)
    else:
        shortcut = x
    x = conv_bn(x, f1, 1, name + "_1", strides=strides)
    x = conv_bn(x, f2, 3, name + "_2")
    x = conv_bn(x, f3, 1, name + "_3", act=False)
    x = layers.Add(name=name + "_add")([shortcut, x])
    return layers.ReLU(name=name + "_out")(x)


def stack(x, filters, blocks, strides, name):
    x = block(x, filters, name + "_block1", strides=strides, shortcut_conv=True)
    for i in range(2, blocks + 1):
        x = block(x, filters, f"{name}_block{i}")
    return x


inputs = keras.Input((224, 224, 3), name="image")
x = conv_bn(inputs, 64, 7, "conv1", strides=2)
x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1_pool")(x)
x = stack(x, (64, 64, 256), 3, 1, "conv2")
x = stack(x, (128, 128, 512), 4, 2, "conv3")
x = stack(x, (256, 256, 1024), 6, 2, "conv4")
x = stack(x, (512, 512, 2048), 3, 2, "conv5")
x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
outputs = layers.Dense(1000, activation="softmax", name="predictions")(x)
model = keras.Model(inputs, outputs, name="resnet50_nobias")
