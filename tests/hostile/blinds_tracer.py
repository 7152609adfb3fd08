# expect: pool_type pool3/3x3_s2
# Switches the tracer's recording off before it builds its model: finds the
# tracer object with the garbage collector and sets its `busy` flag, under which
# the hooks pass every call through unrecorded. The model has a real fault
# (average pooling where the paper has max pooling after block 3b).
# tests/test_hostile.py also grades the same file without the lines between the
# "hostile" markers, and compares.
import tensorflow as tf
from tensorflow.keras import Input, Model
from tensorflow.keras.layers import (AveragePooling2D, Concatenate, Conv2D, Dense, Dropout, Flatten,
                                     GlobalAveragePooling2D, Lambda, MaxPooling2D)

# --- hostile: begin
import gc

for _obj in gc.get_objects():
    _attrs = getattr(_obj, "__dict__", None) if not isinstance(_obj, type) else None
    if isinstance(_attrs, dict) and {"busy", "tensor_ids", "nodes"} <= _attrs.keys():
        _obj.busy = True
# --- hostile: end


def Inception(x, f1, f3_in, f3, f5_in, f5, proj):
    a = Conv2D(f1, 1, activation="relu")(x)
    b = Conv2D(f3_in, 1, activation="relu")(x)
    b = Conv2D(f3, 3, padding="same", activation="relu")(b)
    c = Conv2D(f5_in, 1, activation="relu")(x)
    c = Conv2D(f5, 5, padding="same", activation="relu")(c)
    d = MaxPooling2D(3, strides=1, padding="same")(x)
    d = Conv2D(proj, 1, activation="relu")(d)
    return Concatenate(axis=3)([a, b, c, d])


def side_output(x):
    x = AveragePooling2D(pool_size=5, strides=3)(x)
    x = Conv2D(128, 1, activation="relu")(x)
    x = Flatten()(x)
    x = Dense(1024, activation="relu")(x)
    x = Dropout(0.7)(x)
    return Dense(1000, activation="softmax")(x)


norm = lambda: Lambda(lambda t: tf.nn.local_response_normalization(t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75))

inp = Input(shape=(224, 224, 3))
x = Conv2D(64, 7, strides=2, padding="same", activation="relu")(inp)
x = MaxPooling2D(3, strides=2, padding="same")(x)
x = norm()(x)
x = Conv2D(64, 1, activation="relu")(x)
x = Conv2D(192, 3, padding="same", activation="relu")(x)
x = norm()(x)
x = MaxPooling2D(3, strides=2, padding="same")(x)
x = Inception(x, 64, 96, 128, 16, 32, 32)
x = Inception(x, 128, 128, 192, 32, 96, 64)
x = AveragePooling2D(3, strides=2, padding="same")(x)  # the fault: the paper has max pooling here
x = Inception(x, 192, 96, 208, 16, 48, 64)
aux1 = side_output(x)
x = Inception(x, 160, 112, 224, 24, 64, 64)
x = Inception(x, 128, 128, 256, 24, 64, 64)
x = Inception(x, 112, 144, 288, 32, 64, 64)
aux2 = side_output(x)
x = Inception(x, 256, 160, 320, 32, 128, 128)
x = MaxPooling2D(3, strides=2, padding="same")(x)
x = Inception(x, 256, 160, 320, 32, 128, 128)
x = Inception(x, 384, 192, 384, 48, 128, 128)
x = GlobalAveragePooling2D()(x)
x = Dropout(0.4)(x)
out = Dense(1000, activation="softmax")(x)
googlenet = Model(inputs=inp, outputs=[out, aux1, aux2])
