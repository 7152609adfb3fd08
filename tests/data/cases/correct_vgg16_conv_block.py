# solution: vgg16
# expect: nothing
# A functional VGG-16 with a helper that stacks n convolutions and pools.
import tensorflow as tf
from tensorflow.keras.layers import Input, Conv2D, MaxPool2D, Flatten, Dense, Dropout, ReLU
from tensorflow.keras.models import Model


def conv_block(x, filters, n):
    for _ in range(n):
        x = Conv2D(filters, kernel_size=3, strides=1, padding="same")(x)
        x = ReLU()(x)
    return MaxPool2D(pool_size=2, strides=2)(x)


def build_model(num_classes=1000):
    inp = Input((224, 224, 3))
    x = conv_block(inp, 64, 2)
    x = conv_block(x, 128, 2)
    x = conv_block(x, 256, 3)
    x = conv_block(x, 512, 3)
    x = conv_block(x, 512, 3)
    x = Flatten()(x)
    x = Dense(4096, activation="relu")(x)
    x = Dropout(0.5)(x)
    x = Dense(4096, activation="relu")(x)
    x = Dropout(0.5)(x)
    out = Dense(num_classes, activation="softmax")(x)
    return Model(inp, out)


if __name__ == "__main__":
    net = build_model()
    net.summary()
