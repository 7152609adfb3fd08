# expect: nothing
# params: 13378280
# Lab 4: the builder returns the three heads (main, aux 1, aux 2) as a tuple; the
# notebook that trained it wrapped them in a Model itself.
import keras
from keras import layers as kl


def _cbr(t, ch, k, stride=1):
    return kl.Conv2D(ch, k, strides=stride, padding="same", activation="relu")(t)


def _lrn(t):
    return kl.Lambda(lambda z: __import__("tensorflow").nn.lrn(z, 2, 1.0, 2e-5, 0.75))(t)


def _mixed(t, widths):
    w1, w3r, w3, w5r, w5, wp = widths
    branches = [
        _cbr(t, w1, 1),
        _cbr(_cbr(t, w3r, 1), w3, 3),
        _cbr(_cbr(t, w5r, 1), w5, 5),
        _cbr(kl.MaxPooling2D(3, 1, padding="same")(t), wp, 1),
    ]
    return kl.Concatenate()(branches)


def _side(t, classes):
    t = kl.AveragePooling2D(5, 3)(t)
    t = _cbr(t, 128, 1)
    t = kl.Dense(1024, activation="relu")(kl.Flatten()(t))
    return kl.Dense(classes, activation="softmax")(kl.Dropout(0.7)(t))


def googlenet(input_shape, classes):
    image = keras.Input(input_shape)
    t = _lrn(kl.MaxPooling2D(3, 2, padding="same")(_cbr(image, 64, 7, 2)))
    t = kl.MaxPooling2D(3, 2, padding="same")(_lrn(_cbr(_cbr(t, 64, 1), 192, 3)))
    t = _mixed(t, (64, 96, 128, 16, 32, 32))
    t = _mixed(t, (128, 128, 192, 32, 96, 64))
    t = kl.MaxPooling2D(3, 2, padding="same")(t)
    t = _mixed(t, (192, 96, 208, 16, 48, 64))
    first = _side(t, classes)
    for w in ((160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64), (112, 144, 288, 32, 64, 64)):
        t = _mixed(t, w)
    second = _side(t, classes)
    t = _mixed(t, (256, 160, 320, 32, 128, 128))
    t = kl.MaxPooling2D(3, 2, padding="same")(t)
    t = _mixed(t, (256, 160, 320, 32, 128, 128))
    t = _mixed(t, (384, 192, 384, 48, 128, 128))
    t = kl.Dropout(0.4)(kl.GlobalAveragePooling2D()(t))
    return kl.Dense(classes, activation="softmax")(t), first, second
