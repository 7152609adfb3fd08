# expect: nothing
# params: 13378280
# Inception-v1 (GoogLeNet). Run: python this_file.py
from tensorflow import keras
from tensorflow.keras import layers
import tensorflow as tf

STAGES = [
    [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64)],
    [(192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64),
     (112, 144, 288, 32, 64, 64), (256, 160, 320, 32, 128, 128)],
    [(256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)],
]


class Branches:
    """Helpers, one per kind of layer stack."""

    @staticmethod
    def conv(x, n, k, s=1):
        return layers.Conv2D(n, k, strides=s, padding='same', activation='relu')(x)

    @classmethod
    def module(cls, x, spec):
        a, b, c, d, e, f = spec
        return layers.Concatenate()([cls.conv(x, a, 1), cls.conv(cls.conv(x, b, 1), c, 3),
                                     cls.conv(cls.conv(x, d, 1), e, 5),
                                     cls.conv(layers.MaxPooling2D(3, 1, 'same')(x), f, 1)])

    @classmethod
    def classifier(cls, x):
        x = cls.conv(layers.AveragePooling2D(5, 3)(x), 128, 1)
        x = layers.Dense(1024, activation='relu')(layers.Flatten()(x))
        return layers.Dense(1000, activation='softmax')(layers.Dropout(0.7)(x))


def norm(x):
    return layers.Lambda(lambda t: tf.nn.local_response_normalization(t, depth_radius=2, bias=1.0,
                                                                     alpha=2e-5, beta=0.75))(x)


def make_inception_net(image):
    x = norm(layers.MaxPooling2D(3, 2, 'same')(Branches.conv(image, 64, 7, 2)))
    x = layers.MaxPooling2D(3, 2, 'same')(norm(Branches.conv(Branches.conv(x, 64, 1), 192, 3)))
    outputs = []
    for s, stage in enumerate(STAGES):
        for b, spec in enumerate(stage):
            x = Branches.module(x, spec)
            if s == 1 and b in (0, 3):
                outputs.append(Branches.classifier(x))
        if s < 2:
            x = layers.MaxPooling2D(3, 2, 'same')(x)
    x = layers.Dropout(0.4)(layers.GlobalAveragePooling2D()(x))
    return [layers.Dense(1000, activation='softmax')(x)] + outputs


def main():
    image = keras.Input((224, 224, 3))
    net = keras.Model(image, make_inception_net(image))
    net.summary(line_length=120)
    return net


if __name__ == '__main__':
    main()
