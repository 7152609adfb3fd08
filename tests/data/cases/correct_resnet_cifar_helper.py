# solution: resnet_cifar
# expect: nothing
# The CIFAR ResNet with one residual helper and a downsample flag.
from tensorflow import keras
from tensorflow.keras import layers


def res_block(x, filters, downsample=False):
    s = 2 if downsample else 1
    out = layers.Conv2D(filters, 3, strides=s, padding="same", use_bias=False)(x)
    out = layers.BatchNormalization()(out)
    out = layers.ReLU()(out)
    out = layers.Conv2D(filters, 3, padding="same", use_bias=False)(out)
    out = layers.BatchNormalization()(out)
    if downsample:
        x = layers.Conv2D(filters, 1, strides=2, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
    out = layers.add([out, x])
    return layers.ReLU()(out)


def build_model(num_classes=10):
    inp = keras.Input(shape=(32, 32, 3))
    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = res_block(x, 16)
    x = res_block(x, 16)
    x = res_block(x, 32, downsample=True)
    x = res_block(x, 32)
    x = res_block(x, 64, downsample=True)
    x = res_block(x, 64)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(num_classes, activation="softmax")(x))
