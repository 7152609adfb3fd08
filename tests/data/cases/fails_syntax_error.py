# expect: build_error data
# status: failed
import tensorflow as tf
from tensorflow.keras import layers, Model


def inception(x, f1, f3r, f3, f5r, f5, fp):
    a = layers.Conv2D(f1, 1, padding='same', activation='relu')(x)
    b = layers.Conv2D(f3r, 1, padding='same', activation='relu')(x)
    b = layers.Conv2D(f3, 3, padding='same', activation='relu')(b)
    c = layers.Conv2D(f5r, 1, padding='same', activation='relu')(x)
    c = layers.Conv2D(f5, 5, padding='same', activation='relu')(c)
    d = layers.MaxPooling2D(3, strides=1, padding='same')(x)
    d = layers.Conv2D(fp, 1, padding='same', activation='relu')(d)
    return layers.Concatenate()([a, b, c, d])


def aux(x):
    x = layers.AveragePooling2D(5, strides=3)(x)
    x = layers.Conv2D(128, 1, activation='relu')(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation='relu')(x)
    x = layers.Dropout(0.7)(x)
    return layers.Dense(1000, activation='softmax')(x)


def build_model()
    inp = layers.Input((224, 224, 3))
    x = layers.Conv2D(64, 7, strides=2, padding='same', activation='relu')(inp)
    x = layers.MaxPooling2D(3, strides=2, padding='same')(x)
    x = layers.Lambda(lambda t: tf.nn.lrn(t, 2, 1.0, 2e-5, 0.75))(x)
    x = layers.Conv2D(64, 1, activation='relu')(x)
    x = layers.Conv2D(192, 3, padding='same', activation='relu')(x)
    x = layers.Lambda(lambda t: tf.nn.lrn(t, 2, 1.0, 2e-5, 0.75))(x)
    x = layers.MaxPooling2D(3, strides=2, padding='same')(x)
    x = inception(x, 64, 96, 128, 16, 32, 32)
    x = inception(x, 128, 128, 192, 32, 96, 64)
    x = layers.MaxPooling2D(3, strides=2, padding='same')(x)
    x = inception(x, 192, 96, 208, 16, 48, 64)
    o1 = aux(x)
    x = inception(x, 160, 112, 224, 24, 64, 64)
    x = inception(x, 128, 128, 256, 24, 64, 64)
    x = inception(x, 112, 144, 288, 32, 64, 64)
    o2 = aux(x)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = layers.MaxPooling2D(3, strides=2, padding='same')(x)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = inception(x, 384, 192, 384, 48, 128, 128)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    o = layers.Dense(1000, activation='softmax')(x)
    return Model(inp, [o, o1, o2])


model = build_model()
