"""Training script: python train.py"""
import tensorflow as tf
from tensorflow import keras

from googlenet import GoogLeNet

BATCH = 32


def preprocess(image, label):
    image = tf.image.resize(tf.cast(image, tf.float32) / 255.0, (224, 224))
    return image, (label, label, label)


if __name__ == "__main__":
    (x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
    train = tf.data.Dataset.from_tensor_slices((x_train, y_train)).map(preprocess).batch(BATCH)
    model = GoogLeNet()
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", loss_weights=[1.0, 0.3, 0.3],
                  metrics=[["accuracy"], [], []])
    model.fit(train, epochs=20)
