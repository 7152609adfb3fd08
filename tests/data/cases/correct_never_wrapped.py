# expect: nothing
# params: 13378280
# GoogLeNet, part 2 of the homework: "build the network from an Input up to its three
# softmax outputs" -- done; the Model(...) call was part 3, which I did not get to.
import tensorflow as tf
from tensorflow import keras

L = keras.layers


def conv(x, n, k, s=1):
    return L.Conv2D(n, k, strides=s, padding="same", activation="relu")(x)


def norm(x):
    return L.Lambda(lambda v: tf.nn.local_response_normalization(v, 2, 1.0, 2e-5, 0.75))(x)


def inception(x, c):
    towers = [conv(x, c[0], 1), conv(conv(x, c[1], 1), c[2], 3), conv(conv(x, c[3], 1), c[4], 5),
              conv(L.MaxPooling2D(3, 1, "same")(x), c[5], 1)]
    return L.concatenate(towers, axis=-1)


def auxiliary(x):
    x = conv(L.AveragePooling2D(5, 3)(x), 128, 1)
    x = L.Dropout(0.7)(L.Dense(1024, activation="relu")(L.Flatten()(x)))
    return L.Dense(1000, activation="softmax")(x)


img = keras.Input(shape=(224, 224, 3))
x = norm(L.MaxPooling2D(3, 2, "same")(conv(img, 64, 7, 2)))
x = L.MaxPooling2D(3, 2, "same")(norm(conv(conv(x, 64, 1), 192, 3)))
x = inception(x, (64, 96, 128, 16, 32, 32))
x = inception(x, (128, 128, 192, 32, 96, 64))
x = L.MaxPooling2D(3, 2, "same")(x)
x = inception(x, (192, 96, 208, 16, 48, 64))
aux_1 = auxiliary(x)
x = inception(x, (160, 112, 224, 24, 64, 64))
x = inception(x, (128, 128, 256, 24, 64, 64))
x = inception(x, (112, 144, 288, 32, 64, 64))
aux_2 = auxiliary(x)
x = inception(x, (256, 160, 320, 32, 128, 128))
x = L.MaxPooling2D(3, 2, "same")(x)
x = inception(x, (256, 160, 320, 32, 128, 128))
x = inception(x, (384, 192, 384, 48, 128, 128))
x = L.GlobalAveragePooling2D()(x)
x = L.Dropout(0.4)(x)
main_out = L.Dense(1000, activation="softmax")(x)
print("output shapes:", main_out.shape, aux_1.shape, aux_2.shape)
