#!/usr/bin/env python3
# Gustavo Reyes
# Inception v1 -- functional API
import tensorflow as tf
from tensorflow.keras import Input, Model
from tensorflow.keras.layers import (Conv2D, MaxPool2D, AvgPool2D, Dense, Dropout,
                                     Flatten, GlobalAvgPool2D, Concatenate, Lambda)


def LRN(x):
    return Lambda(lambda t: tf.nn.local_response_normalization(
        t, depth_radius=2, bias=1, alpha=2e-5, beta=0.75))(x)


def inception(x, n1, n3r, n3, n5r, n5, npp):
    b1 = Conv2D(n1, 1, padding="same", activation="relu")(x)
    b2 = Conv2D(n3r, 1, padding="same", activation="relu")(x)
    b2 = Conv2D(n3, 3, padding="same", activation="relu")(b2)
    b3 = Conv2D(n5r, 1, padding="same", activation="relu")(x)
    b3 = Conv2D(n5, 5, padding="same", activation="relu")(b3)
    b4 = MaxPool2D(3, 1, padding="same")(x)
    b4 = Conv2D(npp, 1, padding="same", activation="relu")(b4)
    return Concatenate()([b1, b2, b3, b4])


def aux_classifier(x):
    x = AvgPool2D(5, 3)(x)
    x = Conv2D(128, 1, padding="same", activation="relu")(x)
    x = Flatten()(x)
    x = Dense(1024, activation="relu")(x)
    x = Dropout(0.7)(x)
    return Dense(1000, activation="softmax")(x)


def googlenet():
    inputs = Input(shape=(224, 224, 3))
    x = Conv2D(64, 7, 2, padding="same", activation="relu")(inputs)
    x = MaxPool2D(3, 2, padding="same")(x)
    x = LRN(x)
    x = Conv2D(64, 1, padding="same", activation="relu")(x)
    x = Conv2D(192, 3, 2, padding="same", activation="relu")(x)   # conv2 3x3/2
    x = LRN(x)
    x = MaxPool2D(3, 2, padding="same")(x)

    x = inception(x, 64, 96, 128, 16, 32, 32)
    x = inception(x, 128, 128, 192, 32, 96, 64)
    x = MaxPool2D(3, 2, padding="same")(x)
    x = inception(x, 192, 96, 208, 16, 48, 64)
    aux1 = aux_classifier(x)
    x = inception(x, 160, 112, 224, 24, 64, 64)
    x = inception(x, 128, 128, 256, 24, 64, 64)
    x = inception(x, 112, 144, 288, 32, 64, 64)
    aux2 = aux_classifier(x)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = MaxPool2D(3, 2, padding="same")(x)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = inception(x, 384, 192, 384, 48, 128, 128)

    x = GlobalAvgPool2D()(x)
    x = Dropout(0.4)(x)
    logits = Dense(1000)(x)
    return Model(inputs, [logits, aux1, aux2])


if __name__ == "__main__":
    net = googlenet()
    net.summary()
    net.compile(optimizer="sgd",
                loss=[tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      "sparse_categorical_crossentropy", "sparse_categorical_crossentropy"],
                loss_weights=[1, 0.3, 0.3])
