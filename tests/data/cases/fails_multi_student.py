# expect: strides conv2/3x3
# expect: activation conv1/7x7_s2
# expect: activation conv2/3x3_reduce
# expect: activation conv2/3x3
# expect: activation inception/3x3_reduce
# expect: activation inception/5x5_reduce
# expect: activation loss1/conv
# expect-warning: norm_type pool1/norm1
# expect-warning: norm_type conv2/norm2
# expect: argument_misuse inception/pool_proj
# expect: kernel_size inception/5x5
# expect: argument_misuse inception/5x5
# expect-info: branch_order inception/output
# expect: filters inception_4d/3x3_reduce
# params: 9691258
import tensorflow as tf
from tensorflow.keras.layers import (Input, Conv2D, MaxPooling2D, AveragePooling2D,
                                     GlobalAveragePooling2D, Dense, Dropout, Flatten,
                                     Concatenate, LayerNormalization)
from tensorflow.keras.models import Model

# GoogLeNet implementation
# I used LayerNormalization instead of LRN because LRN is not used anymore


def inception_module(x, filters_1x1, filters_3x3_reduce, filters_3x3,
                     filters_5x5_reduce, filters_5x5, filters_pool_proj):
    conv_1x1 = Conv2D(filters_1x1, (1, 1), padding='same', activation='relu')(x)

    conv_3x3 = Conv2D(filters_3x3_reduce, (1, 1), padding='same')(x)
    conv_3x3 = Conv2D(filters_3x3, (3, 3), padding='same', activation='relu')(conv_3x3)

    conv_5x5 = Conv2D(filters_5x5_reduce, (1, 1), padding='same')(x)
    conv_5x5 = Conv2D(filters_3x3, (3, 3), padding='same', activation='relu')(conv_5x5)

    pool_proj = MaxPooling2D((3, 3), strides=(1, 1), padding='same')(x)
    pool_proj = Conv2D(filters_5x5_reduce, (1, 1), padding='same', activation='relu')(pool_proj)

    output = Concatenate(axis=-1)([pool_proj, conv_5x5, conv_3x3, conv_1x1])
    return output


def aux_classifier(x, name):
    a = AveragePooling2D((5, 5), strides=3)(x)
    a = Conv2D(128, (1, 1), padding='same')(a)
    a = Flatten()(a)
    a = Dense(1024, activation='relu')(a)
    a = Dropout(0.7)(a)
    a = Dense(1000, activation='softmax', name=name)(a)
    return a


input_layer = Input(shape=(224, 224, 3))

x = Conv2D(64, (7, 7), strides=(2, 2), padding='same')(input_layer)
x = MaxPooling2D((3, 3), strides=(2, 2), padding='same')(x)
x = LayerNormalization()(x)

x = Conv2D(64, (1, 1), padding='same')(x)
x = Conv2D(192, (3, 3), strides=(2, 2), padding='same')(x)
x = LayerNormalization()(x)
x = MaxPooling2D((3, 3), strides=(2, 2), padding='same')(x)

x = inception_module(x, 64, 96, 128, 16, 32, 32)     # 3a
x = inception_module(x, 128, 128, 192, 32, 96, 64)   # 3b
x = MaxPooling2D((3, 3), strides=(2, 2), padding='same')(x)

x = inception_module(x, 192, 96, 208, 16, 48, 64)    # 4a
aux1 = aux_classifier(x, 'aux_output_1')

x = inception_module(x, 160, 112, 224, 24, 64, 64)   # 4b
x = inception_module(x, 128, 128, 256, 24, 64, 64)   # 4c
x = inception_module(x, 112, 114, 288, 32, 64, 64)   # 4d
aux2 = aux_classifier(x, 'aux_output_2')

x = inception_module(x, 256, 160, 320, 32, 128, 128)  # 4e
x = MaxPooling2D((3, 3), strides=(2, 2), padding='same')(x)

x = inception_module(x, 256, 160, 320, 32, 128, 128)  # 5a
x = inception_module(x, 384, 192, 384, 48, 128, 128)  # 5b

x = GlobalAveragePooling2D()(x)
x = Dropout(0.4)(x)
output = Dense(1000, activation='softmax', name='output')(x)

model = Model(input_layer, [output, aux1, aux2], name='GoogLeNet')
model.summary()

model.compile(optimizer='adam',
              loss=['categorical_crossentropy', 'categorical_crossentropy',
                    'categorical_crossentropy'],
              loss_weights=[1, 0.3, 0.3],
              metrics=['accuracy'])
