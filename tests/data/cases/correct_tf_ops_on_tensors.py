# expect: nothing
# expect-info: legacy_api data
# params: 13378280
# GoogLeNet with TensorFlow functions called straight on the functional API's
# tensors (tf.nn.local_response_normalization, tf.concat, tf.nn.relu), the way
# tf.keras 2.x allowed it.
import tensorflow as tf

layers = tf.keras.layers


def conv_relu(x, n, k, s=1):
    y = layers.Conv2D(n, k, strides=s, padding="same")(x)
    return tf.nn.relu(y)


def lrn(x):
    return tf.nn.local_response_normalization(x, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75)


def inception(x, n1, n3r, n3, n5r, n5, npp):
    p1 = conv_relu(x, n1, 1)
    p2 = conv_relu(conv_relu(x, n3r, 1), n3, 3)
    p3 = conv_relu(conv_relu(x, n5r, 1), n5, 5)
    p4 = conv_relu(layers.MaxPool2D(3, 1, padding="same")(x), npp, 1)
    return tf.concat([p1, p2, p3, p4], axis=3)


def classifier_branch(x):
    x = layers.AveragePooling2D(5, 3)(x)
    x = conv_relu(x, 128, 1)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    x = layers.Dropout(0.7)(x)
    return layers.Dense(1000, activation="softmax")(x)


image = tf.keras.Input((224, 224, 3))
h = conv_relu(image, 64, 7, 2)
h = layers.MaxPool2D(3, 2, padding="same")(h)
h = lrn(h)
h = conv_relu(h, 64, 1)
h = conv_relu(h, 192, 3)
h = lrn(h)
h = layers.MaxPool2D(3, 2, padding="same")(h)
h = inception(h, 64, 96, 128, 16, 32, 32)
h = inception(h, 128, 128, 192, 32, 96, 64)
h = layers.MaxPool2D(3, 2, padding="same")(h)
h = inception(h, 192, 96, 208, 16, 48, 64)
side1 = classifier_branch(h)
h = inception(h, 160, 112, 224, 24, 64, 64)
h = inception(h, 128, 128, 256, 24, 64, 64)
h = inception(h, 112, 144, 288, 32, 64, 64)
side2 = classifier_branch(h)
h = inception(h, 256, 160, 320, 32, 128, 128)
h = layers.MaxPool2D(3, 2, padding="same")(h)
h = inception(h, 256, 160, 320, 32, 128, 128)
h = inception(h, 384, 192, 384, 48, 128, 128)
h = tf.reduce_mean(h, axis=[1, 2])
h = layers.Dropout(0.4)(h)
probs = layers.Dense(1000, activation="softmax")(h)

model = tf.keras.Model(image, [probs, side1, side2])
