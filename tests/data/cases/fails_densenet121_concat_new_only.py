# assignment: densenet121
# params: 6721832
# fault: each dense block's output is the concatenation of its layers' new features alone, features[1:], without the block's input x_0 (the paper: [x_0, x_1, ..., x_l])
# expect: branch_missing conv2_block6_concat
# DenseNet-121 written the way the paper's equation (2) reads,
# x_l = H_l([x_0, x_1, ..., x_{l-1}]): every layer gets the concatenation of
# the list of all earlier feature maps of its block, and the block's output is
# the concatenation of the whole list.
import keras
from keras import layers


def H(x, k):
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(4 * k, 1, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    return layers.Conv2D(k, 3, padding="same", use_bias=False)(x)


def dense_block(x0, n_layers, k=32):
    features = [x0]
    for _ in range(n_layers):
        inp = features[0] if len(features) == 1 else layers.Concatenate()(features)
        features.append(H(inp, k))
    return layers.Concatenate()(features[1:])


def transition(x, theta=0.5):
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Conv2D(int(theta * x.shape[-1]), 1, use_bias=False)(x)
    return layers.AveragePooling2D(2, 2)(x)


x_in = keras.Input((224, 224, 3))
x = layers.Conv2D(64, 7, 2, padding="same", use_bias=False)(x_in)
x = layers.Activation("relu")(layers.BatchNormalization()(x))
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = transition(dense_block(x, 6))
x = transition(dense_block(x, 12))
x = transition(dense_block(x, 24))
x = dense_block(x, 16)
x = layers.Activation("relu")(layers.BatchNormalization()(x))
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(x_in, layers.Dense(1000, activation="softmax")(x))
