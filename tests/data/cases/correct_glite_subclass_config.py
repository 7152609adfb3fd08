# solution: googlenet_lite
# expect: nothing
# GoogLeNet-lite built from a table of blocks in a keras.Model subclass.
import keras
from keras import layers

BLOCKS = [(32, 48, 64, 8, 16, 16), (64, 64, 96, 16, 48, 32), "pool", (96, 48, 104, 8, 24, 32),
          (80, 56, 112, 12, 32, 32)]


class ConvBN(layers.Layer):
    def __init__(self, filters, kernel, **kw):
        super().__init__(**kw)
        self.conv = layers.Conv2D(filters, kernel, padding="same", use_bias=False)
        self.bn = layers.BatchNormalization()
        self.act = layers.ReLU()

    def call(self, x):
        return self.act(self.bn(self.conv(x)))


def inception(x, cfg):
    a, b, c, d, e, f = cfg
    p1 = ConvBN(a, 1)(x)
    p2 = ConvBN(c, 3)(ConvBN(b, 1)(x))
    p3 = ConvBN(e, 5)(ConvBN(d, 1)(x))
    p4 = ConvBN(f, 1)(layers.MaxPooling2D(3, 1, padding="same")(x))
    return layers.Concatenate(axis=3)([p1, p2, p3, p4])


inputs = keras.Input((32, 32, 3))
x = ConvBN(64, 3)(inputs)
for cfg in BLOCKS:
    x = layers.MaxPooling2D(3, 2, padding="same")(x) if cfg == "pool" else inception(x, cfg)
outputs = layers.Dense(10, activation="softmax")(layers.GlobalAveragePooling2D()(x))
model = keras.Model(inputs, outputs)
