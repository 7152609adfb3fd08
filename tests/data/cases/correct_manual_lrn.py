# expect: nothing
# params: 13378280
# GoogLeNet, with the local response normalization written out by hand from the
# AlexNet formula instead of calling tf.nn.local_response_normalization:
#     b[c] = a[c] / (k + alpha * sum_{c' = c-n/2 .. c+n/2} a[c']^2) ** beta
# with n = 5 (depth radius 2), k = 1, alpha = 1e-4 / 5 = 2e-5, beta = 0.75 (caffe values).
import keras
from keras import layers, ops


class HandLRN(layers.Layer):
    def __init__(self, n=5, k=1.0, alpha=2e-5, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.n, self.k, self.alpha, self.beta = n, k, alpha, beta

    def call(self, a):
        half = self.n // 2
        depth = a.shape[-1]
        squared = ops.pad(ops.square(a), [[0, 0], [0, 0], [0, 0], [half, half]])
        total = ops.zeros_like(a)
        for shift in range(self.n):
            total = total + squared[:, :, :, shift:shift + depth]
        return a / ops.power(self.k + self.alpha * total, self.beta)


def inception(x, n1, n3r, n3, n5r, n5, npp):
    conv = lambda f, k, t: layers.Conv2D(f, k, padding="same", activation="relu")(t)
    y1 = conv(n1, 1, x)
    y2 = conv(n3, 3, conv(n3r, 1, x))
    y3 = conv(n5, 5, conv(n5r, 1, x))
    y4 = conv(npp, 1, layers.MaxPooling2D(3, strides=1, padding="same")(x))
    return layers.Concatenate(axis=-1)([y1, y2, y3, y4])


def aux(x):
    y = layers.AveragePooling2D(5, strides=3, padding="valid")(x)
    y = layers.Conv2D(128, 1, padding="same", activation="relu")(y)
    y = layers.Flatten()(y)
    y = layers.Dense(1024, activation="relu")(y)
    y = layers.Dropout(0.7)(y)
    return layers.Dense(1000, activation="softmax")(y)


data = keras.Input((224, 224, 3))
t = layers.Conv2D(64, 7, strides=2, padding="same", activation="relu")(data)
t = layers.MaxPooling2D(3, strides=2, padding="same")(t)
t = HandLRN()(t)
t = layers.Conv2D(64, 1, padding="same", activation="relu")(t)
t = layers.Conv2D(192, 3, padding="same", activation="relu")(t)
t = HandLRN()(t)
t = layers.MaxPooling2D(3, strides=2, padding="same")(t)
t = inception(t, 64, 96, 128, 16, 32, 32)
t = inception(t, 128, 128, 192, 32, 96, 64)
t = layers.MaxPooling2D(3, strides=2, padding="same")(t)
t = inception(t, 192, 96, 208, 16, 48, 64)
loss1 = aux(t)
t = inception(t, 160, 112, 224, 24, 64, 64)
t = inception(t, 128, 128, 256, 24, 64, 64)
t = inception(t, 112, 144, 288, 32, 64, 64)
loss2 = aux(t)
t = inception(t, 256, 160, 320, 32, 128, 128)
t = layers.MaxPooling2D(3, strides=2, padding="same")(t)
t = inception(t, 256, 160, 320, 32, 128, 128)
t = inception(t, 384, 192, 384, 48, 128, 128)
t = layers.GlobalAveragePooling2D()(t)
t = layers.Dropout(0.4)(t)
loss3 = layers.Dense(1000, activation="softmax")(t)

model = keras.Model(data, [loss3, loss1, loss2], name="googlenet")
