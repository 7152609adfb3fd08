# expect: argument_misuse inception/5x5_reduce
# line: argument_misuse inception/5x5_reduce 20
# params: 13014904
"""GoogLeNet written with model subclassing.

Inception -> one keras Layer holding its six convolutions and its pooling.
AuxHead   -> the auxiliary classifier used during training.
"""
import tensorflow as tf
import keras
from keras import layers


class Inception(keras.layers.Layer):
    def __init__(self, c1, c3_red, c3, c5_red, c5, proj, **kwargs):
        super().__init__(**kwargs)
        self.b1 = layers.Conv2D(c1, 1, padding="same", activation="relu", name="1x1")
        self.b2_red = layers.Conv2D(c3_red, 1, padding="same", activation="relu", name="3x3_reduce")
        self.b2 = layers.Conv2D(c3, 3, padding="same", activation="relu", name="3x3")
        self.b3_red = layers.Conv2D(16, 1, padding="same", activation="relu", name="5x5_reduce")
        self.b3 = layers.Conv2D(c5, 5, padding="same", activation="relu", name="5x5")
        self.b4_pool = layers.MaxPooling2D(3, strides=1, padding="same", name="pool")
        self.b4 = layers.Conv2D(proj, 1, padding="same", activation="relu", name="pool_proj")
        self.concat = layers.Concatenate(axis=-1, name="output")

    def call(self, x):
        y1 = self.b1(x)
        y2 = self.b2(self.b2_red(x))
        y3 = self.b3(self.b3_red(x))
        y4 = self.b4(self.b4_pool(x))
        return self.concat([y1, y2, y3, y4])


class AuxHead(keras.layers.Layer):
    def __init__(self, num_classes=1000, **kwargs):
        super().__init__(**kwargs)
        self.pool = layers.AveragePooling2D(5, strides=3, padding="valid")
        self.conv = layers.Conv2D(128, 1, padding="same", activation="relu")
        self.flat = layers.Flatten()
        self.fc = layers.Dense(1024, activation="relu")
        self.drop = layers.Dropout(0.7)
        self.classifier = layers.Dense(num_classes, activation="softmax")

    def call(self, x, training=None):
        x = self.conv(self.pool(x))
        x = self.drop(self.fc(self.flat(x)), training=training)
        return self.classifier(x)


class LocalResponseNorm(keras.layers.Layer):
    def call(self, x):
        return tf.nn.local_response_normalization(x, depth_radius=2, bias=1.0,
                                                  alpha=2e-5, beta=0.75)


class InceptionV1(keras.Model):
    def __init__(self, num_classes=1000, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = layers.Conv2D(64, 7, strides=2, padding="same", activation="relu")
        self.pool1 = layers.MaxPooling2D(3, strides=2, padding="same")
        self.norm1 = LocalResponseNorm()
        self.conv2_reduce = layers.Conv2D(64, 1, padding="same", activation="relu")
        self.conv2 = layers.Conv2D(192, 3, padding="same", activation="relu")
        self.norm2 = LocalResponseNorm()
        self.pool2 = layers.MaxPooling2D(3, strides=2, padding="same")

        self.i3a = Inception(64, 96, 128, 16, 32, 32, name="inception_3a")
        self.i3b = Inception(128, 128, 192, 32, 96, 64, name="inception_3b")
        self.pool3 = layers.MaxPooling2D(3, strides=2, padding="same")

        self.i4a = Inception(192, 96, 208, 16, 48, 64, name="inception_4a")
        self.aux1 = AuxHead(num_classes, name="loss1")
        self.i4b = Inception(160, 112, 224, 24, 64, 64, name="inception_4b")
        self.i4c = Inception(128, 128, 256, 24, 64, 64, name="inception_4c")
        self.i4d = Inception(112, 144, 288, 32, 64, 64, name="inception_4d")
        self.aux2 = AuxHead(num_classes, name="loss2")
        self.i4e = Inception(256, 160, 320, 32, 128, 128, name="inception_4e")
        self.pool4 = layers.MaxPooling2D(3, strides=2, padding="same")

        self.i5a = Inception(256, 160, 320, 32, 128, 128, name="inception_5a")
        self.i5b = Inception(384, 192, 384, 48, 128, 128, name="inception_5b")

        self.gap = layers.GlobalAveragePooling2D()
        self.dropout = layers.Dropout(0.4)
        self.fc = layers.Dense(num_classes, activation="softmax")

    def call(self, inputs, training=None):
        x = self.pool1(self.conv1(inputs))
        x = self.norm1(x)
        x = self.conv2(self.conv2_reduce(x))
        x = self.pool2(self.norm2(x))
        x = self.pool3(self.i3b(self.i3a(x)))
        x = self.i4a(x)
        aux1 = self.aux1(x, training=training)
        x = self.i4d(self.i4c(self.i4b(x)))
        aux2 = self.aux2(x, training=training)
        x = self.pool4(self.i4e(x))
        x = self.i5b(self.i5a(x))
        x = self.dropout(self.gap(x), training=training)
        return [self.fc(x), aux1, aux2]


net = InceptionV1()
# build the weights by calling the model once on a symbolic 224x224 RGB input
net(keras.Input(shape=(224, 224, 3)))

if __name__ == "__main__":
    net.summary()
