# expect-warning: norm_type pool1/norm1
# expect-warning: norm_type conv2/norm2
# params: 13408424
# GoogLeNet -- with BatchNorm after every convolution (conv -> BN -> ReLU).
# LRN was dropped: BN (Ioffe & Szegedy 2015) replaced it in later Inception versions
# and it makes training from scratch much more stable.
import os

import keras
from keras import layers, Model


def conv_bn_relu(x, filters, kernel, strides=1):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return x


def inception_block(x, n1x1, n3x3red, n3x3, n5x5red, n5x5, pool_proj):
    branch1 = conv_bn_relu(x, n1x1, 1)

    branch2 = conv_bn_relu(x, n3x3red, 1)
    branch2 = conv_bn_relu(branch2, n3x3, 3)

    branch3 = conv_bn_relu(x, n5x5red, 1)
    branch3 = conv_bn_relu(branch3, n5x5, 5)

    branch4 = layers.MaxPool2D(pool_size=3, strides=1, padding="same")(x)
    branch4 = conv_bn_relu(branch4, pool_proj, 1)

    return layers.Concatenate(axis=-1)([branch1, branch2, branch3, branch4])


def auxiliary_classifier(x, num_classes=1000):
    a = layers.AveragePooling2D(pool_size=5, strides=3)(x)
    a = conv_bn_relu(a, 128, 1)
    a = layers.Flatten()(a)
    a = layers.Dense(1024)(a)
    a = layers.ReLU()(a)
    a = layers.Dropout(0.7)(a)
    a = layers.Dense(num_classes)(a)
    return layers.Softmax()(a)


def build_model(num_classes=1000):
    inp = layers.Input((224, 224, 3))

    x = conv_bn_relu(inp, 64, 7, strides=2)
    x = layers.MaxPool2D(3, strides=2, padding="same")(x)
    x = conv_bn_relu(x, 64, 1)
    x = conv_bn_relu(x, 192, 3)
    x = layers.MaxPool2D(3, strides=2, padding="same")(x)

    x = inception_block(x, 64, 96, 128, 16, 32, 32)
    x = inception_block(x, 128, 128, 192, 32, 96, 64)
    x = layers.MaxPool2D(3, strides=2, padding="same")(x)

    x = inception_block(x, 192, 96, 208, 16, 48, 64)
    out1 = auxiliary_classifier(x, num_classes)
    x = inception_block(x, 160, 112, 224, 24, 64, 64)
    x = inception_block(x, 128, 128, 256, 24, 64, 64)
    x = inception_block(x, 112, 144, 288, 32, 64, 64)
    out2 = auxiliary_classifier(x, num_classes)
    x = inception_block(x, 256, 160, 320, 32, 128, 128)
    x = layers.MaxPool2D(3, strides=2, padding="same")(x)

    x = inception_block(x, 256, 160, 320, 32, 128, 128)
    x = inception_block(x, 384, 192, 384, 48, 128, 128)

    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    x = layers.Dense(num_classes)(x)
    out = layers.Activation("softmax")(x)

    return Model(inp, [out, out1, out2], name="inception_v1_bn")


if __name__ == "__main__":
    m = build_model()
    m.compile(optimizer=keras.optimizers.Adam(1e-3),
              loss="categorical_crossentropy", loss_weights=[1.0, 0.3, 0.3])
    if os.environ.get("TRAIN") == "1":
        (x_train, y_train), _ = keras.datasets.cifar10.load_data()
        print("train:", x_train.shape)
        m.fit(x_train, [y_train] * 3, epochs=50, batch_size=128)
