# expect: strides conv2/3x3
# expect-info: legacy_api data
# expect-info: import_stubbed data
# expect-info: training_skipped data
# Old Keras 2 notebook export: GoogLeNet + ImageDataGenerator + fit_generator
from keras.layers import Input, concatenate
from keras.layers.core import Dense, Dropout, Flatten, Lambda
from keras.layers.convolutional import Conv2D, MaxPooling2D, AveragePooling2D
from keras.layers.pooling import GlobalAveragePooling2D
from keras.models import Model
from keras.optimizers import SGD
from keras.preprocessing.image import ImageDataGenerator
from keras.callbacks import ModelCheckpoint, LearningRateScheduler
import keras.backend as K
import tensorflow as tf
import numpy as np
import cv2
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

img_rows, img_cols, channel = 224, 224, 3
num_classes = 1000
batch_size = 16
nb_epoch = 10


def lrn_layer():
    return Lambda(lambda x: tf.nn.local_response_normalization(x, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75))


def incept(x, n1, n3r, n3, n5r, n5, npj):
    t1 = Conv2D(n1, (1, 1), padding='same', activation='relu')(x)
    t2 = Conv2D(n3r, (1, 1), padding='same', activation='relu')(x)
    t2 = Conv2D(n3, (3, 3), padding='same', activation='relu')(t2)
    t3 = Conv2D(n5r, (1, 1), padding='same', activation='relu')(x)
    t3 = Conv2D(n5, (5, 5), padding='same', activation='relu')(t3)
    t4 = MaxPooling2D((3, 3), strides=(1, 1), padding='same')(x)
    t4 = Conv2D(npj, (1, 1), padding='same', activation='relu')(t4)
    return concatenate([t1, t2, t3, t4], axis=3)


def auxiliary(x):
    x = AveragePooling2D((5, 5), strides=(3, 3))(x)
    x = Conv2D(128, (1, 1), padding='same', activation='relu')(x)
    x = Flatten()(x)
    x = Dense(1024, activation='relu')(x)
    x = Dropout(0.7)(x)
    return Dense(num_classes, activation='softmax')(x)


img_input = Input(shape=(img_rows, img_cols, channel))
x = Conv2D(64, (7, 7), strides=(2, 2), padding='same', activation='relu')(img_input)
x = MaxPooling2D((3, 3), strides=(2, 2), padding='same')(x)
x = lrn_layer()(x)
x = Conv2D(64, (1, 1), padding='same', activation='relu')(x)
x = Conv2D(192, (3, 3), strides=(2, 2), padding='same', activation='relu')(x)
x = lrn_layer()(x)
x = MaxPooling2D((3, 3), strides=(2, 2), padding='same')(x)
x = incept(x, 64, 96, 128, 16, 32, 32)
x = incept(x, 128, 128, 192, 32, 96, 64)
x = MaxPooling2D((3, 3), strides=(2, 2), padding='same')(x)
x = incept(x, 192, 96, 208, 16, 48, 64)
aux1 = auxiliary(x)
x = incept(x, 160, 112, 224, 24, 64, 64)
x = incept(x, 128, 128, 256, 24, 64, 64)
x = incept(x, 112, 144, 288, 32, 64, 64)
aux2 = auxiliary(x)
x = incept(x, 256, 160, 320, 32, 128, 128)
x = MaxPooling2D((3, 3), strides=(2, 2), padding='same')(x)
x = incept(x, 256, 160, 320, 32, 128, 128)
x = incept(x, 384, 192, 384, 48, 128, 128)
x = GlobalAveragePooling2D()(x)
x = Dropout(0.4)(x)
out = Dense(num_classes, activation='softmax')(x)
model = Model(inputs=img_input, outputs=[out, aux1, aux2])
print('channels:', K.int_shape(out))

sgd = SGD(lr=1e-2, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(optimizer=sgd, loss='categorical_crossentropy', loss_weights=[1., 0.3, 0.3], metrics=['accuracy'])

datagen = ImageDataGenerator(rescale=1. / 255, horizontal_flip=True)
X_train = np.zeros((32, img_rows, img_cols, channel))
Y_train = np.zeros((32, num_classes))
X_train = np.array([cv2.resize(im, (img_rows, img_cols)) for im in X_train])


def step_decay(epoch):
    return 0.01 * (0.96 ** (epoch // 8))


history = model.fit_generator(datagen.flow(X_train, Y_train, batch_size=batch_size),
                              steps_per_epoch=len(X_train) // batch_size, epochs=nb_epoch,
                              callbacks=[ModelCheckpoint('googlenet.h5'), LearningRateScheduler(step_decay)])
plt.plot(history.history['loss'])
plt.savefig('loss.png')
model.save('googlenet_final.h5')
