# solution: vgg16
# expect: strides block1_conv1
# the first convolution has a stride of 2.
from tensorflow.keras import Input, Model
from tensorflow.keras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D


def VGG16(input_shape=(224, 224, 3), n_classes=1000):
    img = Input(shape=input_shape, name="image")
    x = Conv2D(64, 3, strides=2, padding="same", activation="relu", name="c1_1")(img)
    x = Conv2D(64, 3, padding="same", activation="relu", name="c1_2")(x)
    x = MaxPooling2D(2, name="p1")(x)
    x = Conv2D(128, 3, padding="same", activation="relu", name="c2_1")(x)
    x = Conv2D(128, 3, padding="same", activation="relu", name="c2_2")(x)
    x = MaxPooling2D(2, name="p2")(x)
    x = Conv2D(256, 3, padding="same", activation="relu", name="c3_1")(x)
    x = Conv2D(256, 3, padding="same", activation="relu", name="c3_2")(x)
    x = Conv2D(256, 3, padding="same", activation="relu", name="c3_3")(x)
    x = MaxPooling2D(2, name="p3")(x)
    x = Conv2D(512, 3, padding="same", activation="relu", name="c4_1")(x)
    x = Conv2D(512, 3, padding="same", activation="relu", name="c4_2")(x)
    x = Conv2D(512, 3, padding="same", activation="relu", name="c4_3")(x)
    x = MaxPooling2D(2, name="p4")(x)
    x = Conv2D(512, 3, padding="same", activation="relu", name="c5_1")(x)
    x = Conv2D(512, 3, padding="same", activation="relu", name="c5_2")(x)
    x = Conv2D(512, 3, padding="same", activation="relu", name="c5_3")(x)
    x = MaxPooling2D(2, name="p5")(x)
    x = Flatten()(x)
    x = Dense(4096, activation="relu", name="dense_a")(x)
    x = Dropout(0.5)(x)
    x = Dense(4096, activation="relu", name="dense_b")(x)
    x = Dropout(0.5)(x)
    return Model(img, Dense(n_classes, activation="softmax", name="out")(x))
