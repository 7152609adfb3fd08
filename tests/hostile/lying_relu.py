# expect: activation conv1/7x7_s2
# expect: activation conv2/3x3
# Activations that lie about what they compute: a function named relu that
# computes a sigmoid, passed as activation= to conv2/3x3, and a layer class
# named ReLU whose call computes tanh, after conv1. The rest is a correct GoogLeNet.
import tensorflow as tf
import keras
from keras import layers, Model


class LRN(layers.Layer):
    """Local Response Normalization (AlexNet style), parameters from the caffe prototxt."""

    def __init__(self, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius = depth_radius
        self.bias = bias
        self.alpha = alpha
        self.beta = beta

    def call(self, inputs):
        return tf.nn.local_response_normalization(
            inputs, depth_radius=self.depth_radius, bias=self.bias,
            alpha=self.alpha, beta=self.beta)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(depth_radius=self.depth_radius, bias=self.bias,
                   alpha=self.alpha, beta=self.beta)
        return cfg


class Tap(layers.Layer):
    """Passes its input through unchanged (a place to hang a breakpoint)."""

    def call(self, inputs):
        return inputs


SHARED_RELU = layers.ReLU(name="shared_relu")


def relu(x):
    return tf.math.sigmoid(x)


class ReLU(layers.Layer):
    def call(self, inputs):
        return tf.math.tanh(inputs)


def conv_relu(x, filters, kernel, strides=1):
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same")(x)
    return SHARED_RELU(x)


def inception_block(x, n1x1, n3x3red, n3x3, n5x5red, n5x5, pool_proj):
    branch1 = layers.Conv2D(n1x1, 1, padding="same")(x)
    branch1 = SHARED_RELU(branch1)

    branch2 = layers.Conv2D(n3x3red, 1, padding="same")(x)
    branch2 = SHARED_RELU(branch2)
    branch2 = layers.Conv2D(n3x3, 3, padding="same")(branch2)
    branch2 = SHARED_RELU(branch2)

    branch3 = layers.Conv2D(n5x5red, 1, padding="same")(x)
    branch3 = SHARED_RELU(branch3)
    branch3 = layers.Conv2D(n5x5, 5, padding="same")(branch3)
    branch3 = SHARED_RELU(branch3)

    branch4 = layers.MaxPool2D(pool_size=3, strides=1, padding="same")(x)
    branch4 = layers.Conv2D(pool_proj, 1, padding="same")(branch4)
    branch4 = SHARED_RELU(branch4)

    return layers.concatenate([branch1, branch2, branch3, branch4])


def auxiliary_classifier(x, num_classes=1000):
    a = layers.AveragePooling2D(pool_size=5, strides=3)(x)
    a = conv_relu(a, 128, 1)
    a = layers.Flatten()(a)
    a = layers.Dense(1024)(a)
    a = layers.ReLU()(a)
    a = layers.Dropout(0.7)(a)
    a = layers.Dense(num_classes)(a)
    a = layers.Softmax()(a)
    return a


def build_model(num_classes=1000):
    inp = layers.Input((224, 224, 3))

    # stem
    x = layers.Conv2D(64, 7, strides=2, padding="same")(inp)
    x = ReLU()(x)
    x = layers.MaxPool2D(3, strides=2, padding="same")(x)
    x = LRN()(x)
    x = conv_relu(x, 64, 1)
    x = layers.Conv2D(192, 3, padding="same", activation=relu)(x)
    x = LRN()(x)
    x = layers.MaxPool2D(3, strides=2, padding="same")(x)
    x = Tap(name="after_stem")(x)

    x = inception_block(x, 64, 96, 128, 16, 32, 32)
    x = inception_block(x, 128, 128, 192, 32, 96, 64)
    x = layers.MaxPool2D(3, strides=2, padding="same")(x)

    x = inception_block(x, 192, 96, 208, 16, 48, 64)
    out1 = auxiliary_classifier(x, num_classes)
    x = inception_block(x, 160, 112, 224, 24, 64, 64)
    x = inception_block(x, 128, 128, 256, 24, 64, 64)
    x = inception_block(x, 112, 144, 288, 32, 64, 64)
    out2 = auxiliary_classifier(x, num_classes)
    x = inception_block(x, 256, 160, 320, 32, 128, 128)
    x = layers.MaxPool2D(3, strides=2, padding="same")(x)

    x = inception_block(x, 256, 160, 320, 32, 128, 128)
    x = inception_block(x, 384, 192, 384, 48, 128, 128)

    x = Tap(name="after_body")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.4)(x)
    x = layers.Dense(num_classes)(x)
    out = layers.Activation("softmax")(x)

    return Model(inp, [out, out1, out2], name="inception_v1")


if __name__ == "__main__":
    m = build_model()
    m.summary(line_length=120)
    print("total params:", m.count_params())
