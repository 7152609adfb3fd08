# Fatima Zahra - GoogLeNet homework
# I used 'valid' padding in the 3x3 path like in my VGG code.
from tensorflow import keras
from tensorflow.keras import layers
import tensorflow as tf


def inception(x, f1, f3r, f3, f5r, f5, fp):
    p1 = layers.Conv2D(f1, 1, activation='relu')(x)
    p2 = layers.Conv2D(f3r, 1, activation='relu')(x)
    p2 = layers.Conv2D(f3, 3, activation='relu')(p2)
    p3 = layers.Conv2D(f5r, 1, activation='relu')(x)
    p3 = layers.Conv2D(f5, 5, padding='same', activation='relu')(p3)
    p4 = layers.MaxPooling2D(3, strides=1, padding='same')(x)
    p4 = layers.Conv2D(fp, 1, activation='relu')(p4)
    return layers.concatenate([p1, p2, p3, p4])


def aux(x):
    x = layers.AveragePooling2D(5, 3)(x)
    x = layers.Conv2D(128, 1, activation='relu')(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation='relu')(x)
    x = layers.Dropout(0.7)(x)
    return layers.Dense(1000, activation='softmax')(x)


def GoogLeNet():
    i = keras.Input((224, 224, 3))
    x = layers.Conv2D(64, 7, 2, padding='same', activation='relu')(i)
    x = layers.MaxPooling2D(3, 2, padding='same')(x)
    x = layers.Lambda(lambda t: tf.nn.lrn(t, 2, 1.0, 2e-5, 0.75))(x)
    x = layers.Conv2D(64, 1, activation='relu')(x)
    x = layers.Conv2D(192, 3, padding='same', activation='relu')(x)
    x = layers.Lambda(lambda t: tf.nn.lrn(t, 2, 1.0, 2e-5, 0.75))(x)
    x = layers.MaxPooling2D(3, 2, padding='same')(x)
    x = inception(x, 64, 96, 128, 16, 32, 32)
    x = inception(x, 128, 128, 192, 32, 96, 64)
    x = layers.MaxPooling2D(3, 2, padding='same')(x)
    x = inception(x, 192, 96, 208, 16, 48, 64)
    a1 = aux(x)
    x = inception(x, 160, 112, 224, 24, 64, 64)
    x = inception(x, 128, 128, 256, 24, 64, 64)
    x = inception(x, 112, 144, 288, 32, 64, 64)
    a2 = aux(x)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = layers.MaxPooling2D(3, 2, padding='same')(x)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = inception(x, 384, 192, 384, 48, 128, 128)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    return keras.Model(i, [layers.Dense(1000, activation='softmax')(x), a1, a2])


model = GoogLeNet()
model.summary()
