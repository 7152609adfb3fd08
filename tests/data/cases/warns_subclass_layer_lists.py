# expect-warning: norm_type pool1/norm1
# expect-warning: norm_type conv2/norm2
# params: 13379304
"""GoogLeNet, subclassing API; layers kept in python lists, concatenation with keras.ops.

Remark: I replaced the two LRN layers by BatchNormalization, LRN is not in
Keras anymore and BN is what everybody uses today.
"""
import keras
from keras import layers


class InceptionModule(layers.Layer):
    def __init__(self, f1, f3r, f3, f5r, f5, fp, **kwargs):
        super().__init__(**kwargs)
        conv = lambda f, k: layers.Conv2D(f, k, padding="same", activation="relu")
        self.path1 = conv(f1, 1)
        self.path2 = [conv(f3r, 1), conv(f3, 3)]
        self.path3 = [conv(f5r, 1), conv(f5, 5)]
        self.path4 = [layers.MaxPooling2D(3, strides=1, padding="same"), conv(fp, 1)]

    @staticmethod
    def _seq(path, x):
        for layer in path:
            x = layer(x)
        return x

    def call(self, x):
        return keras.ops.concatenate(
            [self.path1(x), self._seq(self.path2, x), self._seq(self.path3, x), self._seq(self.path4, x)],
            axis=-1)


class Auxiliary(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.body = [
            layers.AveragePooling2D(5, strides=3),
            layers.Conv2D(128, 1, activation="relu"),
            layers.Flatten(),
            layers.Dense(1024, activation="relu"),
            layers.Dropout(0.7),
            layers.Dense(1000, activation="softmax"),
        ]

    def call(self, x, training=False):
        for layer in self.body:
            x = layer(x, training=training) if isinstance(layer, layers.Dropout) else layer(x)
        return x


class GoogLeNet(keras.Model):
    def __init__(self):
        super().__init__(name="googlenet")
        self.stem = [
            layers.Conv2D(64, 7, strides=2, padding="same", activation="relu"),
            layers.MaxPooling2D(3, strides=2, padding="same"),
            layers.BatchNormalization(),
            layers.Conv2D(64, 1, activation="relu"),
            layers.Conv2D(192, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.MaxPooling2D(3, strides=2, padding="same"),
        ]
        self.stage3 = [InceptionModule(64, 96, 128, 16, 32, 32),
                       InceptionModule(128, 128, 192, 32, 96, 64)]
        self.pool3 = layers.MaxPooling2D(3, strides=2, padding="same")
        self.inc4a = InceptionModule(192, 96, 208, 16, 48, 64)
        self.inc4bcd = [InceptionModule(160, 112, 224, 24, 64, 64),
                        InceptionModule(128, 128, 256, 24, 64, 64),
                        InceptionModule(112, 144, 288, 32, 64, 64)]
        self.inc4e = InceptionModule(256, 160, 320, 32, 128, 128)
        self.pool4 = layers.MaxPooling2D(3, strides=2, padding="same")
        self.stage5 = [InceptionModule(256, 160, 320, 32, 128, 128),
                       InceptionModule(384, 192, 384, 48, 128, 128)]
        self.aux1, self.aux2 = Auxiliary(), Auxiliary()
        self.head = [layers.GlobalAveragePooling2D(), layers.Dropout(0.4),
                     layers.Dense(1000, activation="softmax")]

    def call(self, x, training=False):
        for layer in self.stem:
            x = layer(x, training=training) if isinstance(layer, layers.BatchNormalization) else layer(x)
        for block in self.stage3:
            x = block(x)
        x = self.inc4a(self.pool3(x))
        a1 = self.aux1(x, training=training)
        for block in self.inc4bcd:
            x = block(x)
        a2 = self.aux2(x, training=training)
        x = self.pool4(self.inc4e(x))
        for block in self.stage5:
            x = block(x)
        for layer in self.head:
            x = layer(x)
        return x, a1, a2


model = GoogLeNet()
model(keras.Input((224, 224, 3)))
print(model.count_params())
