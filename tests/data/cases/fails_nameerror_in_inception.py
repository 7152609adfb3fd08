# expect: build_error data
# status: failed
# GoogLeNet, functional API. (I renamed the 3x3 argument and missed one use.)
import tensorflow as tf
from tensorflow.keras import layers, Model

inputs = layers.Input(shape=(224, 224, 3))


def lrn(t):
    return layers.Lambda(lambda z: tf.nn.local_response_normalization(z, 2, 1.0, 2e-5, 0.75))(t)


def inception(x, n_1x1, n_3x3_reduce, n_3x3_out, n_5x5_reduce, n_5x5, n_pool):
    one = layers.Conv2D(n_1x1, 1, padding='same', activation='relu')(x)
    three = layers.Conv2D(n_3x3_reduce, 1, padding='same', activation='relu')(x)
    three = layers.Conv2D(n_3x3, 3, padding='same', activation='relu')(three)
    five = layers.Conv2D(n_5x5_reduce, 1, padding='same', activation='relu')(x)
    five = layers.Conv2D(n_5x5, 5, padding='same', activation='relu')(five)
    pool = layers.MaxPooling2D(3, strides=1, padding='same')(x)
    pool = layers.Conv2D(n_pool, 1, padding='same', activation='relu')(pool)
    return layers.Concatenate()([one, three, five, pool])


def aux(x):
    x = layers.AveragePooling2D(5, strides=3)(x)
    x = layers.Conv2D(128, 1, activation='relu')(x)
    x = layers.Dense(1024, activation='relu')(layers.Flatten()(x))
    return layers.Dense(1000, activation='softmax')(layers.Dropout(0.7)(x))


x = layers.Conv2D(64, 7, strides=2, padding='same', activation='relu')(inputs)
x = lrn(layers.MaxPooling2D(3, strides=2, padding='same')(x))
x = layers.Conv2D(64, 1, activation='relu')(x)
x = layers.Conv2D(192, 3, padding='same', activation='relu')(x)
x = layers.MaxPooling2D(3, strides=2, padding='same')(lrn(x))
x = inception(x, 64, 96, 128, 16, 32, 32)
x = inception(x, 128, 128, 192, 32, 96, 64)
x = layers.MaxPooling2D(3, strides=2, padding='same')(x)
x = inception(x, 192, 96, 208, 16, 48, 64)
aux1 = aux(x)
x = inception(x, 160, 112, 224, 24, 64, 64)
x = inception(x, 128, 128, 256, 24, 64, 64)
x = inception(x, 112, 144, 288, 32, 64, 64)
aux2 = aux(x)
x = inception(x, 256, 160, 320, 32, 128, 128)
x = layers.MaxPooling2D(3, strides=2, padding='same')(x)
x = inception(x, 256, 160, 320, 32, 128, 128)
x = inception(x, 384, 192, 384, 48, 128, 128)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.4)(x)
outputs = layers.Dense(1000, activation='softmax')(x)
model = Model(inputs, [outputs, aux1, aux2])
model.summary()
