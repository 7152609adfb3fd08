# assignment: densenet121
# params: 3834536
# fault: growth rate k = 12 where DenseNet-121 has 32
# fault: compression 1.0 (none) where DenseNet-121 has 0.5
# fault: no bottleneck: the dense layers are BN-ReLU-Conv3x3(k) without the BN-ReLU-Conv1x1(4k)
# expect: filters dense_block/2_conv
# expect: filters pool2_conv
# expect: layer_missing dense_block/1_conv
# DenseNet-BC-121 driven by one config dict (Table 1): block lengths, growth
# rate, compression, bottleneck width. Keras 3.
import keras
from keras import layers

CONFIG = {
    "stem_filters": 64,
    "block_sizes": [6, 12, 24, 16],
    "growth_rate": 12,
    "bottleneck": 4,      # 1x1 conv gives bottleneck * growth_rate maps
    "compression": 1.0,
}


def bn_relu_conv(x, filters, kernel):
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.Conv2D(filters, kernel, padding="same", use_bias=False)(x)


def dense_layer(x, cfg):
    y = bn_relu_conv(x, cfg["growth_rate"], 3)
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
