# expect: nothing
# expect-info: legacy_api data
# params: 13378280
# GoogLeNet with a width multiplier, so I can train a thin version on my laptop
# (WIDTH = 0.25) and the full one on the lab machine (WIDTH = 1.0).
import tensorflow as tf
from tensorflow.keras import layers as kl

WIDTH = 1.0
INCEPTION = {
    '3a': (64, 96, 128, 16, 32, 32), '3b': (128, 128, 192, 32, 96, 64),
    '4a': (192, 96, 208, 16, 48, 64), '4b': (160, 112, 224, 24, 64, 64),
    '4c': (128, 128, 256, 24, 64, 64), '4d': (112, 144, 288, 32, 64, 64),
    '4e': (256, 160, 320, 32, 128, 128), '5a': (256, 160, 320, 32, 128, 128),
    '5b': (384, 192, 384, 48, 128, 128),
}


def w(n):
    return n * WIDTH


def c(x, n, k, s=1):
    return kl.Conv2D(filters=w(n), kernel_size=k, strides=s, padding='same', activation='relu')(x)


def lrn(x):
    return kl.Lambda(lambda t: tf.nn.local_response_normalization(t, 2, 1.0, 2e-5, 0.75))(x)


def block(x, key):
    n1, r3, n3, r5, n5, pp = INCEPTION[key]
    return kl.Concatenate()([
        c(x, n1, 1),
        c(c(x, r3, 1), n3, 3),
        c(c(x, r5, 1), n5, 5),
        c(kl.MaxPooling2D(3, 1, 'same')(x), pp, 1),
    ])


def head(x):
    x = kl.AveragePooling2D(5, 3)(x)
    x = c(x, 128, 1)
    x = kl.Flatten()(x)
    x = kl.Dense(w(1024), activation='relu')(x)
    x = kl.Dropout(0.7)(x)
    return kl.Dense(1000, activation='softmax')(x)


def googlenet():
    i = kl.Input((224, 224, 3))
    x = lrn(kl.MaxPooling2D(3, 2, 'same')(c(i, 64, 7, 2)))
    x = kl.MaxPooling2D(3, 2, 'same')(lrn(c(c(x, 64, 1), 192, 3)))
    x = block(block(x, '3a'), '3b')
    x = block(kl.MaxPooling2D(3, 2, 'same')(x), '4a')
    h1 = head(x)
    x = block(block(block(x, '4b'), '4c'), '4d')
    h2 = head(x)
    x = kl.MaxPooling2D(3, 2, 'same')(block(x, '4e'))
    x = block(block(x, '5a'), '5b')
    x = kl.Dropout(0.4)(kl.GlobalAveragePooling2D()(x))
    return tf.keras.Model(i, [kl.Dense(1000, activation='softmax')(x), h1, h2])
