# expect: argument_misuse inception/pool_proj
# params: 12817160
"""GoogLeNet (Inception v1) -- Szegedy et al. 2014, Table 1.

Homework 3, deep learning course. Functional API, one helper for the
inception module, the two auxiliary classifiers written out by hand.
"""
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def lrn(x, name):
    # local response normalization as in the paper / caffe model
    return layers.Lambda(
        lambda t: tf.nn.local_response_normalization(
            t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75),
        name=name)(x)


def inception(x, f_1x1, f_3x3_reduce, f_3x3, f_5x5_reduce, f_5x5, f_pool_proj, name):
    # branch 1: 1x1
    b1 = layers.Conv2D(f_1x1, (1, 1), padding='same', activation='relu',
                       name=name + '_1x1')(x)
    # branch 2: 1x1 -> 3x3
    b2 = layers.Conv2D(f_3x3_reduce, (1, 1), padding='same', activation='relu',
                       name=name + '_3x3_reduce')(x)
    b2 = layers.Conv2D(f_3x3, (3, 3), padding='same', activation='relu',
                       name=name + '_3x3')(b2)
    # branch 3: 1x1 -> 5x5
    b3 = layers.Conv2D(f_5x5_reduce, (1, 1), padding='same', activation='relu',
                       name=name + '_5x5_reduce')(x)
    b3 = layers.Conv2D(f_5x5, (5, 5), padding='same', activation='relu',
                       name=name + '_5x5')(b3)
    # branch 4: 3x3 max pool -> 1x1
    b4 = layers.MaxPooling2D((3, 3), strides=(1, 1), padding='same',
                             name=name + '_pool')(x)
    b4 = layers.Conv2D(f_5x5_reduce, (1, 1), padding='same', activation='relu',
                       name=name + '_pool_proj')(b4)
    return layers.Concatenate(axis=-1, name=name + '_output')([b1, b2, b3, b4])


inputs = keras.Input(shape=(224, 224, 3), name='data')

x = layers.Conv2D(64, (7, 7), strides=(2, 2), padding='same', activation='relu',
                  name='conv1_7x7_s2')(inputs)
x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding='same', name='pool1_3x3_s2')(x)
x = lrn(x, 'pool1_norm1')
x = layers.Conv2D(64, (1, 1), padding='same', activation='relu', name='conv2_3x3_reduce')(x)
x = layers.Conv2D(192, (3, 3), padding='same', activation='relu', name='conv2_3x3')(x)
x = lrn(x, 'conv2_norm2')
x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding='same', name='pool2_3x3_s2')(x)

x = inception(x, 64, 96, 128, 16, 32, 32, 'inception_3a')
x = inception(x, 128, 128, 192, 32, 96, 64, 'inception_3b')
x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding='same', name='pool3_3x3_s2')(x)

x = inception(x, 192, 96, 208, 16, 48, 64, 'inception_4a')

# auxiliary classifier 1
a1 = layers.AveragePooling2D((5, 5), strides=(3, 3), padding='valid', name='loss1_ave_pool')(x)
a1 = layers.Conv2D(128, (1, 1), padding='same', activation='relu', name='loss1_conv')(a1)
a1 = layers.Flatten()(a1)
a1 = layers.Dense(1024, activation='relu', name='loss1_fc')(a1)
a1 = layers.Dropout(0.7, name='loss1_drop_fc')(a1)
aux1 = layers.Dense(1000, activation='softmax', name='loss1_classifier')(a1)

x = inception(x, 160, 112, 224, 24, 64, 64, 'inception_4b')
x = inception(x, 128, 128, 256, 24, 64, 64, 'inception_4c')
x = inception(x, 112, 144, 288, 32, 64, 64, 'inception_4d')

# auxiliary classifier 2
a2 = layers.AveragePooling2D((5, 5), strides=(3, 3), padding='valid', name='loss2_ave_pool')(x)
a2 = layers.Conv2D(128, (1, 1), padding='same', activation='relu', name='loss2_conv')(a2)
a2 = layers.Flatten()(a2)
a2 = layers.Dense(1024, activation='relu', name='loss2_fc')(a2)
a2 = layers.Dropout(0.7, name='loss2_drop_fc')(a2)
aux2 = layers.Dense(1000, activation='softmax', name='loss2_classifier')(a2)

x = inception(x, 256, 160, 320, 32, 128, 128, 'inception_4e')
x = layers.MaxPooling2D((3, 3), strides=(2, 2), padding='same', name='pool4_3x3_s2')(x)

x = inception(x, 256, 160, 320, 32, 128, 128, 'inception_5a')
x = inception(x, 384, 192, 384, 48, 128, 128, 'inception_5b')

x = layers.GlobalAveragePooling2D(name='pool5_7x7_s1')(x)
x = layers.Dropout(0.4, name='pool5_drop_7x7_s1')(x)
main = layers.Dense(1000, activation='softmax', name='loss3_classifier')(x)

model = keras.Model(inputs=inputs, outputs=[main, aux1, aux2], name='googlenet')

if __name__ == '__main__':
    model.summary()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss=['categorical_crossentropy'] * 3,
                  loss_weights=[1.0, 0.3, 0.3],
                  metrics=[['accuracy'], [], []])
