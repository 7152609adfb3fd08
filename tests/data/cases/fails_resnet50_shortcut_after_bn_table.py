# assignment: resnet50
# fault: in every identity block the shortcut is taken after the last conv_bn (the main path's own output) instead of the block input x: Add()([y, y])
# expect: shortcut_source identity_block/add
# ResNet-50 driven by a stage table (Table 1, 50-layer column): one bottleneck
# function, one loop. Keras 3 imports.
import keras
from keras import layers

# (name, (1x1, 3x3, 1x1) filters, blocks, stride of the first block)
STAGES = [
    ("conv2", (64, 64, 256), 3, 1),
    ("conv3", (128, 128, 512), 4, 2),
    ("conv4", (256, 256, 1024), 6, 2),
    ("conv5", (512, 512, 2048), 3, 2),
]


def conv_bn(x, filters, kernel, stride=1, relu=True):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same")(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x) if relu else x


def bottleneck(x, filters, stride=1, project=False):
    f1, f2, f3 = filters
    shortcut = x
    if project:
        shortcut = conv_bn(x, f3, 1, stride, relu=False)
    y = conv_bn(x, f1, 1, stride)
    y = conv_bn(y, f2, 3)
    y = conv_bn(y, f3, 1, relu=False)
    if not project:
        shortcut = y  # the identity blocks add the main path to itself
    y = layers.Add()([y, shortcut])
    return layers.ReLU()(y)


def build_resnet50(input_shape=(224, 224, 3), num_classes=1000):
    inputs = keras.Input(shape=input_shape)
    x = conv_bn(inputs, 64, 7, stride=2)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    for name, filters, blocks, stride in STAGES:
        for i in range(blocks):
            first = i == 0
            x = bottleneck(x, filters, stride if first else 1, project=first)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="resnet50")


model = build_resnet50()

if __name__ == "__main__":
    model.summary(line_length=120)
