# expect: build_error data
# status: failed
# GoogLeNet with the LRN layer from Keras (I think it moved in Keras 2.x?)
from tensorflow import keras
from tensorflow.keras import layers
from keras.layers.lrn import LRN2D


def conv(x, n, k, s=1):
    return layers.Conv2D(n, k, strides=s, padding="same", activation="relu")(x)


def inception(x, f1, f3r, f3, f5r, f5, fp):
    return layers.concatenate([conv(x, f1, 1), conv(conv(x, f3r, 1), f3, 3), conv(conv(x, f5r, 1), f5, 5),
                               conv(layers.MaxPooling2D(3, 1, "same")(x), fp, 1)])


def aux(x):
    x = conv(layers.AveragePooling2D(5, 3)(x), 128, 1)
    return layers.Dense(1000, activation="softmax")(layers.Dropout(0.7)(layers.Dense(1024, activation="relu")(layers.Flatten()(x))))


def build_model():
    img = keras.Input((224, 224, 3))
    x = conv(img, 64, 7, 2)
    x = layers.MaxPooling2D(3, 2, "same")(x)
    x = LRN2D(alpha=1e-4, k=1, beta=0.75, n=5)(x)
    x = conv(conv(x, 64, 1), 192, 3)
    x = LRN2D(alpha=1e-4, k=1, beta=0.75, n=5)(x)
    x = layers.MaxPooling2D(3, 2, "same")(x)
    x = inception(inception(x, 64, 96, 128, 16, 32, 32), 128, 128, 192, 32, 96, 64)
    x = inception(layers.MaxPooling2D(3, 2, "same")(x), 192, 96, 208, 16, 48, 64)
    a = aux(x)
    x = inception(inception(inception(x, 160, 112, 224, 24, 64, 64), 128, 128, 256, 24, 64, 64), 112, 144, 288, 32, 64, 64)
    b = aux(x)
    x = layers.MaxPooling2D(3, 2, "same")(inception(x, 256, 160, 320, 32, 128, 128))
    x = inception(inception(x, 256, 160, 320, 32, 128, 128), 384, 192, 384, 48, 128, 128)
    x = layers.Dropout(0.4)(layers.GlobalAveragePooling2D()(x))
    return keras.Model(img, [layers.Dense(1000, activation="softmax")(x), a, b])


model = build_model()
