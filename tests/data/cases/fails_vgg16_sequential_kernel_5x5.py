# solution: vgg16
# expect: kernel_size block5_conv2
# line: kernel_size block5_conv2 28
# A VGG-16 as a Sequential list without an Input, built by model.build(): Keras calls every
# layer at the build line; the 5x5 kernel in block 5 is found at its own line in the list.
import tensorflow as tf

L = tf.keras.layers
relu = dict(padding="same", activation="relu")

model = tf.keras.Sequential(
    [
        L.Conv2D(64, 3, **relu),
        L.Conv2D(64, 3, **relu),
        L.MaxPool2D(),
        L.Conv2D(128, 3, **relu),
        L.Conv2D(128, 3, **relu),
        L.MaxPool2D(),
        L.Conv2D(256, 3, **relu),
        L.Conv2D(256, 3, **relu),
        L.Conv2D(256, 3, **relu),
        L.MaxPool2D(),
        L.Conv2D(512, 3, **relu),
        L.Conv2D(512, 3, **relu),
        L.Conv2D(512, 3, **relu),
        L.MaxPool2D(),
        L.Conv2D(512, 3, **relu),
        L.Conv2D(512, 5, **relu),
        L.Conv2D(512, 3, **relu),
        L.MaxPool2D(),
        L.Flatten(),
        L.Dense(4096, activation="relu"),
        L.Dropout(0.5),
        L.Dense(4096, activation="relu"),
        L.Dropout(0.5),
        L.Dense(1000, activation="softmax"),
    ],
    name="vgg16",
)
model.build((None, 224, 224, 3))
