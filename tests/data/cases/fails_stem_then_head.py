# expect: layer_missing inception_3a
# score: <= 25
# Started the assignment: the stem from Table 1, then straight to the classifier.
import tensorflow as tf
from tensorflow.keras import Input, Model
from tensorflow.keras.layers import Conv2D, MaxPool2D, Dropout, Dense, GlobalAvgPool2D


def LRN(t):
    return tf.nn.local_response_normalization(t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75)


def build_model():
    img = Input((224, 224, 3))
    h = Conv2D(64, 7, strides=2, padding="same", activation="relu")(img)
    h = MaxPool2D(3, strides=2, padding="same")(h)
    h = tf.keras.layers.Lambda(LRN)(h)
    h = Conv2D(64, 1, activation="relu")(h)
    h = Conv2D(192, 3, padding="same", activation="relu")(h)
    h = tf.keras.layers.Lambda(LRN)(h)
    h = MaxPool2D(3, strides=2, padding="same")(h)
    # TODO inception blocks
    h = GlobalAvgPool2D()(h)
    h = Dropout(0.4)(h)
    return Model(img, Dense(1000, activation="softmax")(h))
