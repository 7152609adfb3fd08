# assignment: densenet121
# params: 7286056
# fault: the fourth dense block (conv5) has 12 layers where Table 1 has 16 (conv5_block13..16 missing)
# expect: layer_missing conv5_block13
# DenseNet-BC-121 driven by one config dict (Table 1): block lengths, growth
# rate, compression, bottleneck width. Keras 3.
import keras
from keras import layers

CONFIG = {
    "stem_filters": 64,
    "block_sizes": [6, 12, 24, 12],
    "growth_rate": 32,
    "bottleneck": 4,      # 1x1 conv gives bottleneck * growth_rate maps
    "compression": 0.5,
}


def bn_relu_conv(x, filters, kernel):
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)


def dense_layer(x, cfg):
    y = bn_relu_conv(x, cfg["bottleneck"] * cfg["growth_rate"], 1)
    y = bn_relu_conv(y, cfg["growth_rate"], 3)
    return layers.concatenate([x, y])


def transition(x, cfg):
    x = bn_relu_conv(x, int(x.shape[-1] * cfg["compression"]), 1)
    return layers.AveragePooling2D(pool_size=2, strides=2)(x)


def build(cfg, input_shape=(224, 224, 3), classes=1000):
    inputs = keras.Input(input_shape)
    x = layers.Conv2D(cfg["stem_filters"], 7, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    for i, n_layers in enumerate(cfg["block_sizes"]):
        for _ in range(n_layers):
            x = dense_layer(x, cfg)
        if i < len(cfg["block_sizes"]) - 1:
            x = transition(x, cfg)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x), name="densenet_bc_121")


model = build(CONFIG)
