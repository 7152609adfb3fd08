# expect: nothing
# params: 13378280
import argparse

import tensorflow as tf
from tensorflow.keras import Input, Model
from tensorflow.keras import layers as L


def conv(x, n, k, s=1):
    return L.Conv2D(n, k, strides=s, padding="same", activation="relu")(x)


def inception(x, n1, n3r, n3, n5r, n5, npp):
    return L.Concatenate()([
        conv(x, n1, 1),
        conv(conv(x, n3r, 1), n3, 3),
        conv(conv(x, n5r, 1), n5, 5),
        conv(L.MaxPooling2D(3, 1, "same")(x), npp, 1),
    ])


def aux(x):
    x = conv(L.AveragePooling2D(5, 3)(x), 128, 1)
    x = L.Dropout(0.7)(L.Dense(1024, activation="relu")(L.Flatten()(x)))
    return L.Dense(1000, activation="softmax")(x)


def lrn(x):
    return L.Lambda(lambda t: tf.nn.local_response_normalization(t, 2, 1.0, 2e-5, 0.75))(x)


def googlenet(input):
    x = lrn(L.MaxPooling2D(3, 2, "same")(conv(input, 64, 7, 2)))
    x = L.MaxPooling2D(3, 2, "same")(lrn(conv(conv(x, 64, 1), 192, 3)))
    x = inception(x, 64, 96, 128, 16, 32, 32)
    x = inception(x, 128, 128, 192, 32, 96, 64)
    x = inception(L.MaxPooling2D(3, 2, "same")(x), 192, 96, 208, 16, 48, 64)
    side1 = aux(x)
    x = inception(x, 160, 112, 224, 24, 64, 64)
    x = inception(x, 128, 128, 256, 24, 64, 64)
    x = inception(x, 112, 144, 288, 32, 64, 64)
    side2 = aux(x)
    x = L.MaxPooling2D(3, 2, "same")(inception(x, 256, 160, 320, 32, 128, 128))
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = inception(x, 384, 192, 384, 48, 128, 128)
    x = L.Dropout(0.4)(L.GlobalAveragePooling2D()(x))
    return Model(input, [L.Dense(1000, activation="softmax")(x), side1, side2])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    model = googlenet(Input((224, 224, 3)))
    model.compile("sgd", "categorical_crossentropy")
    print(f"would train for {args.epochs} epochs")
    return model


if __name__ == "__main__":
    main()
