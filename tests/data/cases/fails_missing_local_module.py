# expect: build_error data
# status: failed
# expect-info: import_stubbed data
# expect-info: legacy_api data
# Keras 1 GoogLeNet whose LRN layer lives in a file of the student's own
# (googlenet_custom_layers.py) that was never handed in.
from keras.layers import Input, Dense, Flatten, Dropout, merge
from keras.layers.convolutional import Convolution2D, MaxPooling2D
from keras.models import Model
from googlenet_custom_layers import LRN


def tower(x, n1, n3r, n3, n5r, n5, npp, tag):
    p1 = Convolution2D(n1, 1, 1, border_mode='same', activation='relu', name=tag + '/1x1')(x)
    p3 = Convolution2D(n3r, 1, 1, border_mode='same', activation='relu', name=tag + '/3x3_reduce')(x)
    p3 = Convolution2D(n3, 3, 3, border_mode='same', activation='relu', name=tag + '/3x3')(p3)
    p5 = Convolution2D(n5r, 1, 1, border_mode='same', activation='relu', name=tag + '/5x5_reduce')(x)
    p5 = Convolution2D(n5, 5, 5, border_mode='same', activation='relu', name=tag + '/5x5')(p5)
    pp = MaxPooling2D((3, 3), strides=(1, 1), border_mode='same', name=tag + '/pool')(x)
    pp = Convolution2D(npp, 1, 1, border_mode='same', activation='relu', name=tag + '/pool_proj')(pp)
    return merge([p1, p3, p5, pp], mode='concat', concat_axis=3, name=tag + '/output')


data = Input(shape=(224, 224, 3))
x = Convolution2D(64, 7, 7, subsample=(2, 2), border_mode='same', activation='relu', name='conv1/7x7_s2')(data)
x = MaxPooling2D((3, 3), strides=(2, 2), border_mode='same', name='pool1/3x3_s2')(x)
x = LRN(name='pool1/norm1')(x)
x = tower(x, 64, 96, 128, 16, 32, 32, 'inception_3a')
model = Model(input=data, output=Dense(1000, activation='softmax', name='loss3/classifier')(Flatten()(x)))
