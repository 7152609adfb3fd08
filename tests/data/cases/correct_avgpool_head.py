# expect: nothing
# params: 13378280
"""GoogLeNet -- average pooling head exactly as in the paper: 7x7 avg pool, stride 1."""
from tensorflow.keras import layers, models
import tensorflow as tf


def conv_block(x, nb_filter, kernel, strides=(1, 1)):
    return layers.Conv2D(nb_filter, kernel, strides=strides, padding='same', activation='relu')(x)


def inception_module(x, params):
    (b1,), (b2_1, b2_2), (b3_1, b3_2), (b4,) = params
    branch_1 = conv_block(x, b1, (1, 1))
    branch_2 = conv_block(conv_block(x, b2_1, (1, 1)), b2_2, (3, 3))
    branch_3 = conv_block(conv_block(x, b3_1, (1, 1)), b3_2, (5, 5))
    branch_4 = layers.MaxPooling2D(pool_size=(3, 3), strides=(1, 1), padding='same')(x)
    branch_4 = conv_block(branch_4, b4, (1, 1))
    return layers.concatenate([branch_1, branch_2, branch_3, branch_4], axis=3)


def aux_output(x, name):
    x = layers.AveragePooling2D(pool_size=(5, 5), strides=(3, 3))(x)
    x = conv_block(x, 128, (1, 1))
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation='relu')(x)
    x = layers.Dropout(0.7)(x)
    return layers.Dense(1000, activation='softmax', name=name)(x)


def create_model():
    img_input = layers.Input(shape=(224, 224, 3))
    x = conv_block(img_input, 64, (7, 7), strides=(2, 2))
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), padding='same')(x)
    x = layers.Lambda(tf.nn.local_response_normalization,
                      arguments=dict(depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75))(x)
    x = conv_block(x, 64, (1, 1))
    x = conv_block(x, 192, (3, 3))
    x = layers.Lambda(tf.nn.local_response_normalization,
                      arguments=dict(depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75))(x)
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), padding='same')(x)

    x = inception_module(x, [(64,), (96, 128), (16, 32), (32,)])
    x = inception_module(x, [(128,), (128, 192), (32, 96), (64,)])
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), padding='same')(x)
    x = inception_module(x, [(192,), (96, 208), (16, 48), (64,)])
    aux1 = aux_output(x, 'aux1')
    x = inception_module(x, [(160,), (112, 224), (24, 64), (64,)])
    x = inception_module(x, [(128,), (128, 256), (24, 64), (64,)])
    x = inception_module(x, [(112,), (144, 288), (32, 64), (64,)])
    aux2 = aux_output(x, 'aux2')
    x = inception_module(x, [(256,), (160, 320), (32, 128), (128,)])
    x = layers.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), padding='same')(x)
    x = inception_module(x, [(256,), (160, 320), (32, 128), (128,)])
    x = inception_module(x, [(384,), (192, 384), (48, 128), (128,)])

    x = layers.AveragePooling2D(pool_size=(7, 7), strides=1)(x)   # 7x7x1024 -> 1x1x1024
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    x = layers.Dense(1000, activation='softmax', name='main')(x)
    return models.Model(img_input, [x, aux1, aux2], name='googlenet')
