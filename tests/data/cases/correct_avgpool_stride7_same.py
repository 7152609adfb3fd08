# expect: nothing
# params: 13378280
import tensorflow as tf
from tensorflow.keras.layers import *
from tensorflow.keras.models import Model

# ---------- hyper-parameters from the paper ----------
LRN_RADIUS, LRN_BIAS, LRN_ALPHA, LRN_BETA = 2, 1.0, 0.00002, 0.75


class LRN(Layer):
    def call(self, x):
        return tf.nn.lrn(x, LRN_RADIUS, LRN_BIAS, LRN_ALPHA, LRN_BETA)


def InceptionBlock(prev, f1, f3_in, f3_out, f5_in, f5_out, f_pool):
    a = Conv2D(f1, 1, padding='same', activation='relu')(prev)
    b = Conv2D(f3_in, 1, padding='same', activation='relu')(prev)
    b = Conv2D(f3_out, 3, padding='same', activation='relu')(b)
    c = Conv2D(f5_in, 1, padding='same', activation='relu')(prev)
    c = Conv2D(f5_out, 5, padding='same', activation='relu')(c)
    d = MaxPool2D(3, 1, padding='same')(prev)
    d = Conv2D(f_pool, 1, padding='same', activation='relu')(d)
    return concatenate([a, b, c, d])


def AuxClassifier(prev):
    y = AvgPool2D(5, 3, padding='valid')(prev)
    y = Conv2D(128, 1, padding='same', activation='relu')(y)
    y = Flatten()(y)
    y = Dense(1024, activation='relu')(y)
    y = Dropout(0.7)(y)
    return Dense(1000, activation='softmax')(y)


X = Input(shape=(224, 224, 3))
Y = Conv2D(64, 7, 2, padding='same', activation='relu')(X)
Y = MaxPool2D(3, 2, padding='same')(Y)
Y = LRN()(Y)
Y = Conv2D(64, 1, padding='same', activation='relu')(Y)
Y = Conv2D(192, 3, padding='same', activation='relu')(Y)
Y = LRN()(Y)
Y = MaxPool2D(3, 2, padding='same')(Y)
Y = InceptionBlock(Y, 64, 96, 128, 16, 32, 32)
Y = InceptionBlock(Y, 128, 128, 192, 32, 96, 64)
Y = MaxPool2D(3, 2, padding='same')(Y)
Y = InceptionBlock(Y, 192, 96, 208, 16, 48, 64)
A1 = AuxClassifier(Y)
Y = InceptionBlock(Y, 160, 112, 224, 24, 64, 64)
Y = InceptionBlock(Y, 128, 128, 256, 24, 64, 64)
Y = InceptionBlock(Y, 112, 144, 288, 32, 64, 64)
A2 = AuxClassifier(Y)
Y = InceptionBlock(Y, 256, 160, 320, 32, 128, 128)
Y = MaxPool2D(3, 2, padding='same')(Y)
Y = InceptionBlock(Y, 256, 160, 320, 32, 128, 128)
Y = InceptionBlock(Y, 384, 192, 384, 48, 128, 128)
Y = AvgPool2D(pool_size=7, strides=7, padding='same')(Y)
Y = Flatten()(Y)
Y = Dropout(0.4)(Y)
Y = Dense(1000, activation='softmax')(Y)

network = Model(inputs=X, outputs=[Y, A1, A2])
