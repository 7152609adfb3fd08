# expect: layer_type pool5/7x7_s1
# The classifier flattens the 7x7x1024 map (50176 features) instead of pooling it.
import tensorflow as tf

L = tf.keras.layers


def Conv(filters, size, stride=1):
    return L.Conv2D(filters, size, strides=stride, padding="same", activation="relu")


def inception(x, c1, c3r, c3, c5r, c5, cp):
    t3 = Conv(c3, 3)(Conv(c3r, 1)(x))
    t1 = Conv(c1, 1)(x)
    t5 = Conv(c5, 5)(Conv(c5r, 1)(x))
    tp = Conv(cp, 1)(L.MaxPool2D(3, 1, "same")(x))
    return L.Concatenate()([t1, t3, t5, tp])


def side_branch(x):
    x = L.AvgPool2D(5, 3)(x)
    x = Conv(128, 1)(x)
    x = L.Flatten()(x)
    x = L.Dense(1024, "relu")(x)
    x = L.Dropout(0.7)(x)
    return L.Dense(1000, "softmax")(x)


def googlenet():
    x_in = tf.keras.Input((224, 224, 3))
    x = Conv(64, 7, 2)(x_in)
    x = L.MaxPool2D(3, 2, "same")(x)
    x = L.Lambda(lambda v: tf.nn.local_response_normalization(v, depth_radius=2, alpha=2e-5, beta=0.75, bias=1))(x)
    x = Conv(64, 1)(x)
    x = Conv(192, 3)(x)
    x = L.Lambda(lambda v: tf.nn.local_response_normalization(v, depth_radius=2, alpha=2e-5, beta=0.75, bias=1))(x)
    x = L.MaxPool2D(3, 2, "same")(x)
    x = inception(x, 64, 96, 128, 16, 32, 32)
    x = inception(x, 128, 128, 192, 32, 96, 64)
    x = L.MaxPool2D(3, 2, "same")(x)
    x = inception(x, 192, 96, 208, 16, 48, 64)
    s1 = side_branch(x)
    x = inception(x, 160, 112, 224, 24, 64, 64)
    x = inception(x, 128, 128, 256, 24, 64, 64)
    x = inception(x, 112, 144, 288, 32, 64, 64)
    s2 = side_branch(x)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = L.MaxPool2D(3, 2, "same")(x)
    x = inception(x, 256, 160, 320, 32, 128, 128)
    x = inception(x, 384, 192, 384, 48, 128, 128)
    x = L.Flatten()(x)
    x = L.Dropout(0.4)(x)
    y = L.Dense(1000, "softmax")(x)
    return tf.keras.Model(x_in, [y, s1, s2])
