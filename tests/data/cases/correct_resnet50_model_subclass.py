# assignment: resnet50
# params: 25636712
# fault: none
# expect: nothing
# ResNet-50 as a keras.Model subclass: the layers are created in __init__ (one
# dict per bottleneck block) and wired in call(); the shortcut addition is `+`.
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class ResNet50(keras.Model):
    """He et al. 2015, Table 1 (50-layer)."""

    config = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]  # (width, blocks, first stride)

    def __init__(self, num_classes=1000):
        super().__init__(name="resnet50")
        self.conv1 = layers.Conv2D(64, 7, strides=2, padding="same")
        self.bn1 = layers.BatchNormalization()
        self.pool1 = layers.MaxPooling2D(3, strides=2, padding="same")
        self.blocks = []
        for width, n, stride in self.config:
            for i in range(n):
                s = stride if i == 0 else 1
                blk = {
                    "c1": layers.Conv2D(width, 1, strides=s), "b1": layers.BatchNormalization(),
                    "c2": layers.Conv2D(width, 3, padding="same"), "b2": layers.BatchNormalization(),
                    "c3": layers.Conv2D(4 * width, 1), "b3": layers.BatchNormalization(),
                }
                if i == 0:
                    blk["pc"] = layers.Conv2D(4 * width, 1, strides=s)
                    blk["pb"] = layers.BatchNormalization()
                self.blocks.append(blk)
        self.gap = layers.GlobalAveragePooling2D()
        self.fc = layers.Dense(num_classes, activation="softmax")

    def _bottleneck(self, x, blk, training):
        h = tf.nn.relu(blk["b1"](blk["c1"](x), training=training))
        h = tf.nn.relu(blk["b2"](blk["c2"](h), training=training))
        h = blk["b3"](blk["c3"](h), training=training)
        shortcut = blk["pb"](blk["pc"](x), training=training) if "pc" in blk else x
        return tf.nn.relu(h + shortcut)

    def call(self, inputs, training=None):
        x = tf.nn.relu(self.bn1(self.conv1(inputs), training=training))
        x = self.pool1(x)
        for blk in self.blocks:
            x = self._bottleneck(x, blk, training)
        return self.fc(self.gap(x))


model = ResNet50()
model(keras.Input(shape=(224, 224, 3)))  # creates the weights

if __name__ == "__main__":
    model.summary()
