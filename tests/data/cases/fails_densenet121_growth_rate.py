# assignment: densenet121
# params: 1481574
# fault: growth rate k = 12 (the CIFAR setting) where DenseNet-121 has k = 32: every dense layer adds 12 maps (3x3 conv) after a 48-map bottleneck
# expect: filters dense_block/2_conv
# DenseNet-121 from Sequential pieces: every dense layer's
# BN-ReLU-Conv1x1-BN-ReLU-Conv3x3 and every transition is a keras.Sequential,
# the concatenations are done in the functional graph around them.
from tensorflow import keras
from tensorflow.keras import layers

K = 12            # growth rate
THETA = 0.5       # compression


def dense_layer():
    return keras.Sequential([
        layers.BatchNormalization(), layers.Activation("relu"),
        layers.Conv2D(4 * K, 1, use_bias=False),
        layers.BatchNormalization(), layers.Activation("relu"),
        layers.Conv2D(K, 3, padding="same", use_bias=False),
    ])


def transition(channels):
    return keras.Sequential([
        layers.BatchNormalization(), layers.Activation("relu"),
        layers.Conv2D(int(THETA * channels), 1, use_bias=False),
        layers.AveragePooling2D(2, strides=2),
    ])


inputs = keras.Input((224, 224, 3))
x = keras.Sequential([
    layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False),
    layers.BatchNormalization(), layers.Activation("relu"),
    layers.MaxPooling2D(3, strides=2, padding="same"),
], name="stem")(inputs)

for i, n in enumerate([6, 12, 24, 16]):
    for _ in range(n):
        x = layers.Concatenate()([x, dense_layer()(x)])
    if i != 3:
        x = transition(x.shape[-1])(x)

head = keras.Sequential([
    layers.BatchNormalization(), layers.Activation("relu"),
    layers.GlobalAveragePooling2D(),
    layers.Dense(1000, activation="softmax"),
], name="head")
model = keras.Model(inputs, head(x))
