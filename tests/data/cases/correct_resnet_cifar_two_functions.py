# solution: resnet_cifar
# expect: nothing
# The CIFAR ResNet with an identity block and a projection block, shortcut first in the addition.
import keras
from keras.layers import Activation, Add, BatchNormalization, Conv2D, Dense, GlobalAveragePooling2D, Input


def identity_block(x, f):
    y = Activation("relu")(BatchNormalization()(Conv2D(f, (3, 3), padding="same", use_bias=False)(x)))
    y = BatchNormalization()(Conv2D(f, (3, 3), padding="same", use_bias=False)(y))
    return Activation("relu")(Add()([x, y]))


def projection_block(x, f):
    y = Activation("relu")(BatchNormalization()(Conv2D(f, (3, 3), strides=(2, 2), padding="same", use_bias=False)(x)))
    y = BatchNormalization()(Conv2D(f, (3, 3), padding="same", use_bias=False)(y))
    sc = BatchNormalization()(Conv2D(f, (1, 1), strides=(2, 2), use_bias=False)(x))
    return Activation("relu")(Add()([sc, y]))


inputs = Input((32, 32, 3))
x = Activation("relu")(BatchNormalization()(Conv2D(16, (3, 3), padding="same", use_bias=False)(inputs)))
x = identity_block(identity_block(x, 16), 16)
x = identity_block(projection_block(x, 32), 32)
x = identity_block(projection_block(x, 64), 64)
model = keras.Model(inputs, Dense(10, activation="softmax")(GlobalAveragePooling2D()(x)))
