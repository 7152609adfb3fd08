# expect: build_error data
# status: failed
# GoogLeNet from a 2016 blog post, still in Python 2 (print statement): the file
# cannot run under Python 3 at all; the report says why, at the line.
from keras.layers import Input, Dense, Flatten, merge
from keras.layers.convolutional import Convolution2D, MaxPooling2D
from keras.models import Model


def inception(x, n1, n3r, n3, n5r, n5, npp):
    a = Convolution2D(n1, 1, 1, border_mode='same', activation='relu')(x)
    b = Convolution2D(n3, 3, 3, border_mode='same', activation='relu')(
        Convolution2D(n3r, 1, 1, border_mode='same', activation='relu')(x))
    c = Convolution2D(n5, 5, 5, border_mode='same', activation='relu')(
        Convolution2D(n5r, 1, 1, border_mode='same', activation='relu')(x))
    d = Convolution2D(npp, 1, 1, border_mode='same', activation='relu')(
        MaxPooling2D((3, 3), strides=(1, 1), border_mode='same')(x))
    return merge([a, b, c, d], mode='concat', concat_axis=3)


inp = Input(shape=(224, 224, 3))
x = Convolution2D(64, 7, 7, subsample=(2, 2), border_mode='same', activation='relu')(inp)
print "stem done:", x
x = inception(x, 64, 96, 128, 16, 32, 32)
model = Model(input=inp, output=Dense(1000, activation='softmax')(Flatten()(x)))
