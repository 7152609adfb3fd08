# assignment: densenet121
# params: 2594472
# fault: the dense layers are not concatenated: each layer's new k maps replace its input (x = y), so the blocks are plain chains (no dense connectivity)
# expect: layer_missing dense_block/concat
# DenseNet-121 as a keras.Model subclass; the dense connectivity is tf.concat in call().
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class DenseNet121(keras.Model):
    def __init__(self, k=32, theta=0.5, blocks=(6, 12, 24, 16), num_classes=1000):
        super().__init__(name="densenet121")
        self.stem_conv = layers.Conv2D(2 * k, 7, strides=2, padding="same", use_bias=False)
        self.stem_bn = layers.BatchNormalization()
        self.stem_pool = layers.MaxPooling2D(3, strides=2, padding="same")
        self.dense_layers = []   # one list of (bn, conv1x1, bn, conv3x3) per block
        self.transitions = []    # (bn, conv1x1, pool) after every block but the last
        channels = 2 * k
        for b, n in enumerate(blocks):
            self.dense_layers.append([
                (layers.BatchNormalization(), layers.Conv2D(4 * k, 1, use_bias=False),
                 layers.BatchNormalization(), layers.Conv2D(k, 3, padding="same", use_bias=False))
                for _ in range(n)])
            channels += n * k
            if b < len(blocks) - 1:
                channels = int(theta * channels)
                self.transitions.append((layers.BatchNormalization(),
                                         layers.Conv2D(channels, 1, use_bias=False),
                                         layers.AveragePooling2D(2, 2)))
        self.final_bn = layers.BatchNormalization()
        self.gap = layers.GlobalAveragePooling2D()
        self.classifier = layers.Dense(num_classes, activation="softmax")

    def call(self, x, training=False):
        x = tf.nn.relu(self.stem_bn(self.stem_conv(x), training=training))
        x = self.stem_pool(x)
        for b, block in enumerate(self.dense_layers):
            for bn1, conv1, bn2, conv2 in block:
                y = conv1(tf.nn.relu(bn1(x, training=training)))
                y = conv2(tf.nn.relu(bn2(y, training=training)))
                x = y
            if b < len(self.transitions):
                bn, conv, pool = self.transitions[b]
                x = pool(conv(tf.nn.relu(bn(x, training=training))))
        x = tf.nn.relu(self.final_bn(x, training=training))
        return self.classifier(self.gap(x))


model = DenseNet121()
model(keras.Input((224, 224, 3)))
