# expect: nothing
# assignment: assignment_d2l
# params: 5977530
# score: 100
"""GoogLeNet in the style of the d2l.ai TensorFlow chapter: the inception block
subclasses tf.keras.Model, every stage is a function returning a Sequential,
and the whole network is one Sequential run eagerly, stage by stage, on a
96x96 grey image to print the shapes."""
import tensorflow as tf


class Inception(tf.keras.Model):
    # c1: 1x1 path; c2, c3: (reduce, conv) pairs for the 3x3 and 5x5 paths; c4: pool projection
    def __init__(self, c1, c2, c3, c4):
        super().__init__()
        self.path1 = tf.keras.layers.Conv2D(c1, 1, activation='relu')
        self.path2_reduce = tf.keras.layers.Conv2D(c2[0], 1, activation='relu')
        self.path2_conv = tf.keras.layers.Conv2D(c2[1], 3, padding='same', activation='relu')
        self.path3_reduce = tf.keras.layers.Conv2D(c3[0], 1, activation='relu')
        self.path3_conv = tf.keras.layers.Conv2D(c3[1], 5, padding='same', activation='relu')
        self.path4_pool = tf.keras.layers.MaxPool2D(3, 1, padding='same')
        self.path4_proj = tf.keras.layers.Conv2D(c4, 1, activation='relu')

    def call(self, x):
        out1 = self.path1(x)
        out2 = self.path2_conv(self.path2_reduce(x))
        out3 = self.path3_conv(self.path3_reduce(x))
        out4 = self.path4_proj(self.path4_pool(x))
        # the channels of the four paths side by side
        return tf.keras.layers.Concatenate()([out1, out2, out3, out4])


def stage1():
    return tf.keras.Sequential([
        tf.keras.layers.Conv2D(64, 7, strides=2, padding='same', activation='relu'),
        tf.keras.layers.MaxPool2D(pool_size=3, strides=2, padding='same')])


def stage2():
    return tf.keras.Sequential([
        tf.keras.layers.Conv2D(64, 1, activation='relu'),
        tf.keras.layers.Conv2D(192, 3, padding='same', activation='relu'),
        tf.keras.layers.MaxPool2D(pool_size=3, strides=2, padding='same')])


def stage3():
    return tf.keras.Sequential([
        Inception(64, (96, 128), (16, 32), 32),
        Inception(128, (128, 192), (32, 96), 64),
        tf.keras.layers.MaxPool2D(pool_size=3, strides=2, padding='same')])


def stage4():
    return tf.keras.Sequential([
        Inception(192, (96, 208), (16, 48), 64),
        Inception(160, (112, 224), (24, 64), 64),
        Inception(128, (128, 256), (24, 64), 64),
        Inception(112, (144, 288), (32, 64), 64),
        Inception(256, (160, 320), (32, 128), 128),
        tf.keras.layers.MaxPool2D(pool_size=3, strides=2, padding='same')])


def stage5():
    return tf.keras.Sequential([
        Inception(256, (160, 320), (32, 128), 128),
        Inception(384, (192, 384), (48, 128), 128),
        tf.keras.layers.GlobalAvgPool2D(),
        tf.keras.layers.Flatten()])


def net():
    return tf.keras.Sequential([stage1(), stage2(), stage3(), stage4(), stage5(),
                                tf.keras.layers.Dense(10)])


X = tf.random.uniform(shape=(1, 96, 96, 1))
for layer in net().layers:
    X = layer(X)
    print(layer.__class__.__name__, 'output shape:\t', X.shape)
