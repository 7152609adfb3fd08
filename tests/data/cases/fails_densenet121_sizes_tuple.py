# assignment: densenet121
# fault: BLOCK_SIZES is (6, 12, 32, 32) where Table 1 has (6, 12, 24, 16): 8 extra dense layers in conv4 and 16 in conv5, one mistake at the tuple
# expect: layer_extra conv4_block24
# DenseNet-121 (DenseNet-BC, k = 32, theta = 0.5) with the block sizes in one
# tuple: `composite` is BN-ReLU-Conv, a dense layer is the 4k bottleneck then
# the k 3x3, concatenated onto its input. tf.keras spelling.
import tensorflow as tf
from tensorflow.keras import layers

BLOCK_SIZES = (6, 12, 32, 32)
K = 32
THETA = 0.5


def composite(x, filters, kernel):
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)
    x = layers.ReLU()(x)
    return layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)


def dense_layer(x):
    new = composite(x, 4 * K, 1)
    new = composite(new, K, 3)
    return layers.Concatenate()([x, new])


def transition(x):
    x = composite(x, int(int(x.shape[-1]) * THETA), 1)
    return layers.AveragePooling2D(2, strides=2)(x)


def densenet121(input_shape=(224, 224, 3), num_classes=1000):
    inp = layers.Input(input_shape)
    x = layers.Conv2D(2 * K, 7, strides=2, padding="same", use_bias=False)(inp)
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    for stage, size in enumerate(BLOCK_SIZES):
        for _ in range(size):
            x = dense_layer(x)
        if stage < len(BLOCK_SIZES) - 1:
            x = transition(x)
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)
    x = layers.ReLU()(x)
    x = layers.AveragePooling2D(7)(x)
    x = layers.Flatten()(x)
    return tf.keras.Model(inp, layers.Dense(num_classes, activation="softmax")(x))


model = densenet121()
