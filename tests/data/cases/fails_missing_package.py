# expect: build_error data
# expect-info: import_stubbed data
# status: failed
# GoogLeNet following the d2l.ai chapter (TensorFlow version), with the
# Inception block taken from the course's d2l package instead of written out.
import tensorflow as tf
from d2l import tensorflow as d2l


def lrn():
    return tf.keras.layers.Lambda(lambda t: tf.nn.local_response_normalization(t, 2, 1, 2e-5, 0.75))


def b1():
    return tf.keras.Sequential([
        tf.keras.layers.Conv2D(64, 7, strides=2, padding='same', activation='relu'),
        tf.keras.layers.MaxPool2D(pool_size=3, strides=2, padding='same'),
        lrn()])


def b2():
    return tf.keras.Sequential([
        tf.keras.layers.Conv2D(64, 1, activation='relu'),
        tf.keras.layers.Conv2D(192, 3, padding='same', activation='relu'),
        lrn(),
        tf.keras.layers.MaxPool2D(pool_size=3, strides=2, padding='same')])


def b3():
    return tf.keras.models.Sequential([
        d2l.Inception(64, (96, 128), (16, 32), 32),
        d2l.Inception(128, (128, 192), (32, 96), 64),
        tf.keras.layers.MaxPool2D(pool_size=3, strides=2, padding='same')])


def b4():
    return tf.keras.Sequential([
        d2l.Inception(192, (96, 208), (16, 48), 64),
        d2l.Inception(160, (112, 224), (24, 64), 64),
        d2l.Inception(128, (128, 256), (24, 64), 64),
        d2l.Inception(112, (144, 288), (32, 64), 64),
        d2l.Inception(256, (160, 320), (32, 128), 128),
        tf.keras.layers.MaxPool2D(pool_size=3, strides=2, padding='same')])


def b5():
    return tf.keras.Sequential([
        d2l.Inception(256, (160, 320), (32, 128), 128),
        d2l.Inception(384, (192, 384), (48, 128), 128),
        tf.keras.layers.GlobalAvgPool2D(),
        tf.keras.layers.Dropout(0.4)])


def net():
    return tf.keras.Sequential([tf.keras.Input(shape=(224, 224, 3)), b1(), b2(), b3(), b4(), b5(),
                                tf.keras.layers.Dense(1000, activation='softmax')])


model = net()
lr, num_epochs, batch_size = 0.1, 10, 128
train_iter, test_iter = d2l.load_data_fashion_mnist(batch_size, resize=224)
d2l.train_ch6(net, train_iter, test_iter, num_epochs, lr, d2l.try_gpu())
