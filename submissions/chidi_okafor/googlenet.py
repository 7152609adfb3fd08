"""GoogLeNet model definition (Chidi Okafor). Run train.py to train it."""
from tensorflow import keras
from tensorflow.keras import layers

from blocks import auxiliary_classifier, inception, local_response_norm


def GoogLeNet(num_classes=1000):
    inputs = keras.Input(shape=(224, 224, 3))
    x = layers.Conv2D(64, (7, 7), strides=(2, 2), padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)
    x = local_response_norm(x)
    x = layers.Conv2D(64, (1, 1), padding="same", activation="relu")(x)
    x = layers.Conv2D(192, (3, 3), padding="same", activation="relu")(x)
    x = local_response_norm(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)

    x = inception(x, 64, 96, 128, 16, 32, 32)
    x = inception(x, 128, 128, 192, 32, 96, 64)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)

    x = inception(x, 192, 96, 208, 16, 48, 64)
    aux1 = auxiliary_classifier(x, num_classes)
    x = inception(x, 160, 112, 224, 24, 64, 64)
    x = inception(x, 128, 128, 256, 24, 64, 64)
    x = inception(x, 112, 144, 288, 32, 64, 64)
    aux2 = auxiliary_classifier(x, num_classes)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding="same")(x)

    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = inception(x, 384, 192, 384, 48, 128, 128)

    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, [outputs, aux1, aux2], name="googlenet")
