# assignment: resnet50
# fault: conv3's first block keeps stride 1 (the call passes 1 where Table 1 halves the map to 28x28); every later map is twice as large, so the head's 7x7 average pool gets a 14x14 map: a consequence, not a second fault
# expect: strides conv3_block1_1_conv
# ResNet-50 written out call by call (Keras 3, channels last): a `unit` helper
# for conv + BN (+ ReLU), one `bottleneck` for both kinds of block, and the
# sixteen blocks of Table 1 listed one per line.
import keras
from keras import layers


def unit(x, filters, size, stride=1, relu=True):
    x = layers.Conv2D(filters, size, strides=stride, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)
    if relu:
        x = layers.Activation("relu")(x)
    return x


def bottleneck(x, widths, stride=1, downsample=False):
    narrow, middle, wide = widths
    skip = unit(x, wide, 1, stride, relu=False) if downsample else x
    x = unit(x, narrow, 1, stride)
    x = unit(x, middle, 3)
    x = unit(x, wide, 1, relu=False)
    x = layers.add([skip, x])
    return layers.Activation("relu")(x)


def resnet50(shape=(224, 224, 3), n_classes=1000):
    image = keras.Input(shape)
    x = unit(image, 64, 7, 2)
    x = layers.MaxPooling2D(3, 2, padding="same")(x)
    # conv2_x
    x = bottleneck(x, (64, 64, 256), 1, downsample=True)
    x = bottleneck(x, (64, 64, 256))
    x = bottleneck(x, (64, 64, 256))
    # conv3_x
    x = bottleneck(x, (128, 128, 512), 1, downsample=True)
    x = bottleneck(x, (128, 128, 512))
    x = bottleneck(x, (128, 128, 512))
    x = bottleneck(x, (128, 128, 512))
    # conv4_x
    x = bottleneck(x, (256, 256, 1024), 2, downsample=True)
    x = bottleneck(x, (256, 256, 1024))
    x = bottleneck(x, (256, 256, 1024))
    x = bottleneck(x, (256, 256, 1024))
    x = bottleneck(x, (256, 256, 1024))
    x = bottleneck(x, (256, 256, 1024))
    # conv5_x
    x = bottleneck(x, (512, 512, 2048), 2, downsample=True)
    x = bottleneck(x, (512, 512, 2048))
    x = bottleneck(x, (512, 512, 2048))
    # average pool over the 7x7 map, then the 1000-way classifier
    x = layers.AveragePooling2D(pool_size=7)(x)
    x = layers.Flatten()(x)
    probs = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(image, probs, name="resnet50")


model = resnet50()
