# assignment: densenet121
# params: 14045224
# fault: compression theta = 1.0 (no compression) where DenseNet-121 (BC) has 0.5: the transitions pool2, pool3, pool4 keep all channels
# expect: filters pool2_conv
"""DenseNet-121 with the paper's units as keras Layer subclasses.

DenseLayer       BN-ReLU-Conv(1x1, 4k)-BN-ReLU-Conv(3x3, k), output concatenated onto the input
TransitionLayer  BN-ReLU-Conv(1x1, theta*m)-AvgPool(2x2, /2)
"""
import keras
from keras import layers


class DenseLayer(layers.Layer):
    def __init__(self, growth_rate, **kwargs):
        super().__init__(**kwargs)
        self.bn1 = layers.BatchNormalization()
        self.relu1 = layers.Activation("relu")
        self.conv1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False)
        self.bn2 = layers.BatchNormalization()
        self.relu2 = layers.Activation("relu")
        self.conv2 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False)
        self.concat = layers.Concatenate()

    def call(self, x, training=None):
        y = self.conv1(self.relu1(self.bn1(x, training=training)))
        y = self.conv2(self.relu2(self.bn2(y, training=training)))
        return self.concat([x, y])


class TransitionLayer(layers.Layer):
    def __init__(self, out_channels, **kwargs):
        super().__init__(**kwargs)
        self.bn = layers.BatchNormalization()
        self.relu = layers.Activation("relu")
        self.conv = layers.Conv2D(out_channels, 1, use_bias=False)
        self.pool = layers.AveragePooling2D(2, strides=2)

    def call(self, x, training=None):
        return self.pool(self.conv(self.relu(self.bn(x, training=training))))


def densenet121(growth_rate=32, compression=1.0, classes=1000):
    inputs = keras.Input((224, 224, 3))
    x = layers.Conv2D(2 * growth_rate, 7, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    channels = 2 * growth_rate
    for b, n in enumerate((6, 12, 24, 16)):
        for i in range(n):
            x = DenseLayer(growth_rate, name=f"dense{b + 1}_layer{i + 1}")(x)
            channels += growth_rate
        if b < 3:
            channels = int(channels * compression)
            x = TransitionLayer(channels, name=f"transition{b + 1}")(x)
    x = layers.Activation("relu")(layers.BatchNormalization()(x))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))


model = densenet121()
