# assignment: resnet50
# params: 40242024
# fault: Bottleneck puts the stride of conv3_1, conv4_1, conv5_1 on its 3x3 convolution instead of the first 1x1 (v1.5 placement)
# fault: every block gets a projection shortcut (1x1 conv + BN), also the identity blocks conv2_2..conv5_3
# fault: the classifier (fc 1000) has no softmax
# expect-warning: strides conv3_block1_2_conv
# expect: layer_extra identity_block/add
# expect: activation predictions
"""ResNet-50 with the bottleneck unit as a keras Layer subclass.

Bottleneck(filters, strides, projection) holds its three conv/BN pairs and,
in the first block of a stage, the 1x1 projection of the shortcut.
"""
import keras
from keras import layers


class Bottleneck(keras.layers.Layer):
    def __init__(self, filters, strides=1, projection=False, **kwargs):
        super().__init__(**kwargs)
        f1, f2, f3 = filters
        self.conv_a = layers.Conv2D(f1, 1, padding="same")
        self.bn_a = layers.BatchNormalization()
        self.conv_b = layers.Conv2D(f2, 3, strides=strides, padding="same")
        self.bn_b = layers.BatchNormalization()
        self.conv_c = layers.Conv2D(f3, 1, padding="same")
        self.bn_c = layers.BatchNormalization()
        self.projection = projection
        if projection:
            self.proj_conv = layers.Conv2D(f3, 1, strides=strides, padding="same")
            self.proj_bn = layers.BatchNormalization()
        self.add = layers.Add()
        self.relu = layers.Activation("relu")

    def call(self, x, training=None):
        shortcut = x
        if self.projection:
            shortcut = self.proj_bn(self.proj_conv(x), training=training)
        y = self.relu(self.bn_a(self.conv_a(x), training=training))
        y = self.relu(self.bn_b(self.conv_b(y), training=training))
        y = self.bn_c(self.conv_c(y), training=training)
        return self.relu(self.add([y, shortcut]))


class Stem(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(64, 7, strides=2, padding="same")
        self.bn = layers.BatchNormalization()
        self.relu = layers.Activation("relu")
        self.pool = layers.MaxPooling2D(3, strides=2, padding="same")

    def call(self, x, training=None):
        return self.pool(self.relu(self.bn(self.conv(x), training=training)))


def resnet50(num_classes=1000):
    inputs = keras.Input((224, 224, 3))
    x = Stem(name="stem")(inputs)
    for stage, (filters, repeat, stride) in enumerate([((64, 64, 256), 3, 1), ((128, 128, 512), 4, 2),
                                                       ((256, 256, 1024), 6, 2), ((512, 512, 2048), 3, 2)],
                                                      start=2):
        x = Bottleneck(filters, strides=stride, projection=True, name=f"res{stage}_1")(x)
        for r in range(2, repeat + 1):
            x = Bottleneck(filters, projection=True, name=f"res{stage}_{r}")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes)(x)
    return keras.Model(inputs, outputs)


model = resnet50()
