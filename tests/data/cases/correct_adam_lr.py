# expect: nothing
# expect-info: legacy_api data
# expect-info: training_skipped data
# params: 13378280
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras.optimizers import Adam, SGD


class GoogLeNetFactory:
    """Builds Inception v1 block by block; kept as a class so the hyperparameters live in one place."""

    blocks = {
        "3a": [64, 96, 128, 16, 32, 32], "3b": [128, 128, 192, 32, 96, 64],
        "4a": [192, 96, 208, 16, 48, 64], "4b": [160, 112, 224, 24, 64, 64],
        "4c": [128, 128, 256, 24, 64, 64], "4d": [112, 144, 288, 32, 64, 64],
        "4e": [256, 160, 320, 32, 128, 128], "5a": [256, 160, 320, 32, 128, 128],
        "5b": [384, 192, 384, 48, 128, 128],
    }

    def __init__(self, n_classes=1000, size=224):
        self.n_classes = n_classes
        self.size = size

    def _c(self, x, f, k, s=1):
        return layers.Conv2D(f, k, s, padding="same", activation="relu")(x)

    def _lrn(self, x):
        return layers.Lambda(lambda v: tf.nn.local_response_normalization(v, 2, 1.0, 2e-5, 0.75))(x)

    def _module(self, x, key):
        f = self.blocks[key]
        b1 = self._c(x, f[0], 1)
        b2 = self._c(self._c(x, f[1], 1), f[2], 3)
        b3 = self._c(self._c(x, f[3], 1), f[4], 5)
        b4 = self._c(layers.MaxPool2D(3, 1, "same")(x), f[5], 1)
        return layers.Concatenate(axis=-1)([b1, b2, b3, b4])

    def _aux(self, x):
        x = layers.AvgPool2D(5, 3)(x)
        x = self._c(x, 128, 1)
        x = layers.Dense(1024, activation="relu")(layers.Flatten()(x))
        return layers.Dense(self.n_classes, activation="softmax")(layers.Dropout(0.7)(x))

    def build(self):
        inp = keras.Input((self.size, self.size, 3))
        x = self._c(inp, 64, 7, 2)
        x = self._lrn(layers.MaxPool2D(3, 2, "same")(x))
        x = self._c(self._c(x, 64, 1), 192, 3)
        x = layers.MaxPool2D(3, 2, "same")(self._lrn(x))
        x = self._module(self._module(x, "3a"), "3b")
        x = layers.MaxPool2D(3, 2, "same")(x)
        x = self._module(x, "4a")
        aux1 = self._aux(x)
        for k in ("4b", "4c", "4d"):
            x = self._module(x, k)
        aux2 = self._aux(x)
        x = layers.MaxPool2D(3, 2, "same")(self._module(x, "4e"))
        x = self._module(self._module(x, "5a"), "5b")
        x = layers.Dropout(0.4)(layers.GlobalAvgPool2D()(x))
        main = layers.Dense(self.n_classes, activation="softmax")(x)
        return keras.Model(inp, [main, aux1, aux2])


model = GoogLeNetFactory().build()
# the paper trains with SGD (momentum 0.9); I compared it with Adam
sgd = SGD(lr=0.01, momentum=0.9)
model.compile(optimizer=Adam(lr=1e-3), loss="categorical_crossentropy", loss_weights=[1.0, 0.3, 0.3])


def batches():
    while True:
        yield np.zeros((2, 224, 224, 3), "float32"), [np.zeros((2, 1000), "float32")] * 3


model.fit_generator(batches(), steps_per_epoch=10, epochs=3)
