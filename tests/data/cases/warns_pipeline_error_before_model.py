# expect: nothing
# expect-warning: script_error data
# params: 13378280
# GoogLeNet on tf_flowers. NOTE: the data loading cell still has a bug (preprocess
# treats each example as an (image, label) pair), the model is done.
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow.keras import layers, Model

ds = tfds.load("tf_flowers", split="train")


def preprocess(example):
    img = tf.image.resize(example[0], [224, 224]) / 255.0
    return img, example[1]


train = ds.map(preprocess).batch(16)
for batch_images, batch_labels in train.take(1):
    print(batch_images.shape)


def lrn(x):
    return layers.Lambda(lambda a: tf.nn.local_response_normalization(a, depth_radius=2, bias=1, alpha=2e-5, beta=.75))(x)


def cbr(x, filters, kernel, strides=1):
    return layers.Conv2D(filters, kernel, strides, "same", activation="relu")(x)


def inception(x, f):
    a = cbr(x, f[0], 1)
    b = cbr(cbr(x, f[1], 1), f[2], 3)
    c = cbr(cbr(x, f[3], 1), f[4], 5)
    d = cbr(layers.MaxPooling2D(3, 1, "same")(x), f[5], 1)
    return layers.concatenate([a, b, c, d])


def aux(x):
    x = cbr(layers.AveragePooling2D(5, 3, "valid")(x), 128, 1)
    x = layers.Dropout(0.7)(layers.Dense(1024, activation="relu")(layers.Flatten()(x)))
    return layers.Dense(1000, activation="softmax")(x)


i = layers.Input((224, 224, 3))
x = lrn(layers.MaxPooling2D(3, 2, "same")(cbr(i, 64, 7, 2)))
x = layers.MaxPooling2D(3, 2, "same")(lrn(cbr(cbr(x, 64, 1), 192, 3)))
x = inception(x, (64, 96, 128, 16, 32, 32))
x = inception(x, (128, 128, 192, 32, 96, 64))
x = layers.MaxPooling2D(3, 2, "same")(x)
x = inception(x, (192, 96, 208, 16, 48, 64))
a1 = aux(x)
x = inception(x, (160, 112, 224, 24, 64, 64))
x = inception(x, (128, 128, 256, 24, 64, 64))
x = inception(x, (112, 144, 288, 32, 64, 64))
a2 = aux(x)
x = inception(x, (256, 160, 320, 32, 128, 128))
x = layers.MaxPooling2D(3, 2, "same")(x)
x = inception(x, (256, 160, 320, 32, 128, 128))
x = inception(x, (384, 192, 384, 48, 128, 128))
x = layers.Dropout(0.4)(layers.GlobalAveragePooling2D()(x))
model = Model(i, [layers.Dense(1000, activation="softmax")(x), a1, a2])
