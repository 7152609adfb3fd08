# solution: vgg16
# expect: nothing
# VGG-16 from the paper's configuration list ("M" is a max pool), as in many tutorials.
import keras

cfg_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def make_vgg(cfg, classes=1000):
    x = inputs = keras.layers.Input(shape=(224, 224, 3))
    for v in cfg:
        if v == "M":
            x = keras.layers.MaxPooling2D(pool_size=(2, 2), strides=(2, 2))(x)
        else:
            x = keras.layers.Conv2D(v, (3, 3), padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    for width in (4096, 4096):
        x = keras.layers.Dense(width, activation="relu")(x)
        x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=x)


model = make_vgg(cfg_D)
