# expect: branch_missing inception/output
# score: <= 30
# "inception" made of one 3x3 convolution with the block's output width: the
# shapes and the layout are right, the module is not.
from tensorflow import keras
from tensorflow.keras import layers


def inception(x, f1, f3r, f3, f5r, f5, fp):
    return layers.Conv2D(f1 + f3 + f5 + fp, 3, padding="same", activation="relu")(x)


def aux(x):
    y = layers.AveragePooling2D(5, strides=3)(x)
    y = layers.Conv2D(128, 1, activation="relu")(y)
    y = layers.Flatten()(y)
    y = layers.Dense(1024, activation="relu")(y)
    y = layers.Dropout(0.7)(y)
    return layers.Dense(1000, activation="softmax")(y)


inp = keras.Input((224, 224, 3))
x = layers.Conv2D(64, 7, 2, padding="same", activation="relu")(inp)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = layers.Conv2D(64, 1, activation="relu")(x)
x = layers.Conv2D(192, 3, padding="same", activation="relu")(x)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = inception(x, 64, 96, 128, 16, 32, 32)
x = inception(x, 128, 128, 192, 32, 96, 64)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = inception(x, 192, 96, 208, 16, 48, 64)
o1 = aux(x)
x = inception(x, 160, 112, 224, 24, 64, 64)
x = inception(x, 128, 128, 256, 24, 64, 64)
x = inception(x, 112, 144, 288, 32, 64, 64)
o2 = aux(x)
x = inception(x, 256, 160, 320, 32, 128, 128)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = inception(x, 256, 160, 320, 32, 128, 128)
x = inception(x, 384, 192, 384, 48, 128, 128)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.4)(x)
model = keras.Model(inp, [layers.Dense(1000, activation="softmax")(x), o1, o2])
