# assignment: resnet50
# params: 25636712
# fault: none
# expect: nothing
# ResNet-50 from Sequential pieces: the stem, each block's residual branch and
# each projection shortcut are small keras.Sequential models, joined with
# layers.add in a functional graph.
from tensorflow import keras
from tensorflow.keras import layers


def residual_branch(f1, f2, f3, stride=1):
    return keras.Sequential([
        layers.Conv2D(f1, 1, strides=stride, padding="same"),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.Conv2D(f2, 3, padding="same"),
        layers.BatchNormalization(),
        layers.Activation("relu"),
        layers.Conv2D(f3, 1, padding="same"),
        layers.BatchNormalization(),
    ])


def projection(f3, stride):
    return keras.Sequential([layers.Conv2D(f3, 1, strides=stride), layers.BatchNormalization()])


def make_stage(x, filters, blocks, stride=2):
    """The first block downsamples (stride) and projects; the others keep the shape."""
    y = residual_branch(*filters, stride=stride)(x)
    x = layers.Activation("relu")(layers.add([y, projection(filters[2], stride)(x)]))
    for _ in range(blocks - 1):
        y = residual_branch(*filters)(x)
        x = layers.Activation("relu")(layers.add([y, x]))
    return x


stem = keras.Sequential([
    layers.Conv2D(64, 7, strides=2, padding="same"),
    layers.BatchNormalization(),
    layers.Activation("relu"),
    layers.MaxPooling2D(3, strides=2, padding="same"),
], name="stem")

image = keras.Input(shape=(224, 224, 3))
x = stem(image)
x = make_stage(x, (64, 64, 256), 3, stride=1)
x = make_stage(x, (128, 128, 512), 4)
x = make_stage(x, (256, 256, 1024), 6)
x = make_stage(x, (512, 512, 2048), 3)
x = layers.GlobalAveragePooling2D()(x)
probs = layers.Dense(1000, activation="softmax")(x)
model = keras.Model(image, probs, name="resnet50_sequential_pieces")
