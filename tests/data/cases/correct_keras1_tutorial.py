# expect: nothing
# expect-info: legacy_api data
# params: 13378280
# GoogLeNet for Keras 1.2 (Theano or TensorFlow backend), as in the 2016 tutorials:
# Convolution2D(nb_filter, nb_row, nb_col), border_mode/subsample, merge(mode='concat'),
# Caffe-style layer names with slashes, Model(input=..., output=...).
from keras.layers import Input, Dense, Dropout, Flatten, Lambda, merge
from keras.layers.convolutional import Convolution2D, MaxPooling2D, AveragePooling2D
from keras.models import Model
from keras.regularizers import l2
from keras import backend as K
import tensorflow as tf

K.set_image_dim_ordering('tf')
WD = 0.0002
CONCAT_AXIS = 3 if K.image_dim_ordering() == 'tf' else 1


def LRN(name):
    return Lambda(lambda t: tf.nn.lrn(t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75), name=name)


def inception(prev, n1, n3r, n3, n5r, n5, npool, tag):
    one = Convolution2D(n1, 1, 1, border_mode='same', activation='relu', name=tag + '/1x1',
                        W_regularizer=l2(WD))(prev)
    three = Convolution2D(n3r, 1, 1, border_mode='same', activation='relu', name=tag + '/3x3_reduce',
                          W_regularizer=l2(WD))(prev)
    three = Convolution2D(n3, 3, 3, border_mode='same', activation='relu', name=tag + '/3x3',
                          W_regularizer=l2(WD))(three)
    five = Convolution2D(n5r, 1, 1, border_mode='same', activation='relu', name=tag + '/5x5_reduce',
                         W_regularizer=l2(WD))(prev)
    five = Convolution2D(n5, 5, 5, border_mode='same', activation='relu', name=tag + '/5x5',
                         W_regularizer=l2(WD))(five)
    pool = MaxPooling2D(pool_size=(3, 3), strides=(1, 1), border_mode='same', name=tag + '/pool')(prev)
    pool = Convolution2D(npool, 1, 1, border_mode='same', activation='relu', name=tag + '/pool_proj',
                         W_regularizer=l2(WD))(pool)
    return merge([one, three, five, pool], mode='concat', concat_axis=CONCAT_AXIS, name=tag + '/output')


def side_head(prev, tag):
    h = AveragePooling2D(pool_size=(5, 5), strides=(3, 3), border_mode='valid', name=tag + '/ave_pool')(prev)
    h = Convolution2D(128, 1, 1, border_mode='same', activation='relu', name=tag + '/conv',
                      W_regularizer=l2(WD))(h)
    h = Flatten()(h)
    h = Dense(output_dim=1024, activation='relu', name=tag + '/fc', W_regularizer=l2(WD))(h)
    h = Dropout(0.7)(h)
    return Dense(output_dim=1000, activation='softmax', name=tag + '/classifier', W_regularizer=l2(WD))(h)


img = Input(shape=(224, 224, 3))
net = Convolution2D(64, 7, 7, subsample=(2, 2), border_mode='same', activation='relu', name='conv1/7x7_s2',
                    W_regularizer=l2(WD))(img)
net = MaxPooling2D(pool_size=(3, 3), strides=(2, 2), border_mode='same', name='pool1/3x3_s2')(net)
net = LRN('pool1/norm1')(net)
net = Convolution2D(64, 1, 1, border_mode='same', activation='relu', name='conv2/3x3_reduce',
                    W_regularizer=l2(WD))(net)
net = Convolution2D(192, 3, 3, border_mode='same', activation='relu', name='conv2/3x3',
                    W_regularizer=l2(WD))(net)
net = LRN('conv2/norm2')(net)
net = MaxPooling2D(pool_size=(3, 3), strides=(2, 2), border_mode='same', name='pool2/3x3_s2')(net)

net = inception(net, 64, 96, 128, 16, 32, 32, 'inception_3a')
net = inception(net, 128, 128, 192, 32, 96, 64, 'inception_3b')
net = MaxPooling2D(pool_size=(3, 3), strides=(2, 2), border_mode='same', name='pool3/3x3_s2')(net)
net = inception(net, 192, 96, 208, 16, 48, 64, 'inception_4a')
loss1 = side_head(net, 'loss1')
net = inception(net, 160, 112, 224, 24, 64, 64, 'inception_4b')
net = inception(net, 128, 128, 256, 24, 64, 64, 'inception_4c')
net = inception(net, 112, 144, 288, 32, 64, 64, 'inception_4d')
loss2 = side_head(net, 'loss2')
net = inception(net, 256, 160, 320, 32, 128, 128, 'inception_4e')
net = MaxPooling2D(pool_size=(3, 3), strides=(2, 2), border_mode='same', name='pool4/3x3_s2')(net)
net = inception(net, 256, 160, 320, 32, 128, 128, 'inception_5a')
net = inception(net, 384, 192, 384, 48, 128, 128, 'inception_5b')
net = AveragePooling2D(pool_size=(7, 7), strides=(1, 1), border_mode='valid', name='pool5/7x7_s1')(net)
net = Flatten()(net)
net = Dropout(0.4)(net)
loss3 = Dense(output_dim=1000, activation='softmax', name='loss3/classifier', W_regularizer=l2(WD))(net)

googlenet = Model(input=img, output=[loss3, loss1, loss2])
googlenet.summary()
