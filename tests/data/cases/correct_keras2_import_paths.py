# expect: nothing
# expect-info: legacy_api data
# params: 13378280
'''
GoogLeNet (Inception v1) in Keras, ported from my old Keras 2.2 code.
'''
import tensorflow as tf
from keras.models import Model
from keras.layers import Input
from keras.layers.core import Dense, Dropout, Flatten, Lambda
from keras.layers.convolutional import Conv2D
from keras.layers.pooling import MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D
from keras.layers.merge import concatenate
from keras.layers.normalization import BatchNormalization  # tried it, the paper uses LRN
from keras.engine.topology import get_source_inputs
from keras.utils.np_utils import to_categorical
from keras import backend as K

CHANNEL_AXIS = 3 if K.image_data_format() == 'channels_last' else 1


def LRN(name):
    return Lambda(lambda t: tf.nn.local_response_normalization(t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75),
                  name=name)


def inception_module(x, params, name):
    (branch1, branch2, branch3, branch4) = params
    pathway1 = Conv2D(branch1[0], (1, 1), padding='same', activation='relu', name=name + '_1x1')(x)

    pathway2 = Conv2D(branch2[0], (1, 1), padding='same', activation='relu', name=name + '_3x3_reduce')(x)
    pathway2 = Conv2D(branch2[1], (3, 3), padding='same', activation='relu', name=name + '_3x3')(pathway2)

    pathway3 = Conv2D(branch3[0], (1, 1), padding='same', activation='relu', name=name + '_5x5_reduce')(x)
    pathway3 = Conv2D(branch3[1], (5, 5), padding='same', activation='relu', name=name + '_5x5')(pathway3)

    pathway4 = MaxPooling2D(pool_size=(3, 3), strides=(1, 1), padding='same', name=name + '_pool')(x)
    pathway4 = Conv2D(branch4[0], (1, 1), padding='same', activation='relu', name=name + '_pool_proj')(pathway4)

    return concatenate([pathway1, pathway2, pathway3, pathway4], axis=CHANNEL_AXIS, name=name + '_output')


def aux_classifier(x, name):
    x = AveragePooling2D(pool_size=(5, 5), strides=(3, 3), name=name + '_ave_pool')(x)
    x = Conv2D(128, (1, 1), padding='same', activation='relu', name=name + '_conv')(x)
    x = Flatten()(x)
    x = Dense(1024, activation='relu', name=name + '_fc')(x)
    x = Dropout(0.7)(x)
    return Dense(1000, activation='softmax', name=name + '_classifier')(x)


def create_googlenet(input_tensor=None):
    img_input = Input(shape=(224, 224, 3)) if input_tensor is None else input_tensor

    x = Conv2D(64, (7, 7), strides=(2, 2), padding='same', activation='relu', name='conv1_7x7_s2')(img_input)
    x = MaxPooling2D(pool_size=(3, 3), strides=(2, 2), padding='same', name='pool1_3x3_s2')(x)
    x = LRN('pool1_norm1')(x)
    x = Conv2D(64, (1, 1), padding='same', activation='relu', name='conv2_3x3_reduce')(x)
    x = Conv2D(192, (3, 3), padding='same', activation='relu', name='conv2_3x3')(x)
    x = LRN('conv2_norm2')(x)
    x = MaxPooling2D(pool_size=(3, 3), strides=(2, 2), padding='same', name='pool2_3x3_s2')(x)

    x = inception_module(x, [(64,), (96, 128), (16, 32), (32,)], 'inception_3a')
    x = inception_module(x, [(128,), (128, 192), (32, 96), (64,)], 'inception_3b')
    x = MaxPooling2D(pool_size=(3, 3), strides=(2, 2), padding='same', name='pool3_3x3_s2')(x)

    x = inception_module(x, [(192,), (96, 208), (16, 48), (64,)], 'inception_4a')
    loss1 = aux_classifier(x, 'loss1')
    x = inception_module(x, [(160,), (112, 224), (24, 64), (64,)], 'inception_4b')
    x = inception_module(x, [(128,), (128, 256), (24, 64), (64,)], 'inception_4c')
    x = inception_module(x, [(112,), (144, 288), (32, 64), (64,)], 'inception_4d')
    loss2 = aux_classifier(x, 'loss2')
    x = inception_module(x, [(256,), (160, 320), (32, 128), (128,)], 'inception_4e')
    x = MaxPooling2D(pool_size=(3, 3), strides=(2, 2), padding='same', name='pool4_3x3_s2')(x)

    x = inception_module(x, [(256,), (160, 320), (32, 128), (128,)], 'inception_5a')
    x = inception_module(x, [(384,), (192, 384), (48, 128), (128,)], 'inception_5b')

    x = GlobalAveragePooling2D(name='pool5_7x7_s1')(x)
    x = Dropout(0.4)(x)
    loss3 = Dense(1000, activation='softmax', name='loss3_classifier')(x)

    inputs = get_source_inputs(input_tensor) if input_tensor is not None else img_input
    return Model(input=inputs, output=[loss3, loss1, loss2], name='inception_v1')


model = create_googlenet()
labels = to_categorical([1, 2, 3], num_classes=1000)
