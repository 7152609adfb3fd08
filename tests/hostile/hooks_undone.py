# expect: kernel_size inception/5x5
# Undoes the tracer's hooks before it builds its model, so that the tracer
# would see nothing of it: takes Keras's own Layer.__call__, Layer.__init__,
# Operation.symbolic_call and compute_output_spec back out of the hooks'
# closures and puts them back in place. The model has a real fault (the 5x5
# branch is a 3x3 convolution). tests/test_hostile.py also grades the same file
# without the lines between the "hostile" markers, and compares.
import keras
import tensorflow as tf
from keras import layers

# --- hostile: begin
from keras.src import backend as _backend
from keras.src.layers.layer import Layer as _Layer
from keras.src.ops.operation import Operation as _Operation


def _original(hook, name):
    for cell in getattr(hook, "__closure__", None) or ():
        v = cell.cell_contents
        if callable(v) and getattr(v, "__name__", "") == name and getattr(v, "__module__", "").startswith("keras"):
            return v
    return hook


for _owner, _attr in ((_Layer, "__call__"), (_Layer, "__init__"), (_Operation, "symbolic_call"),
                      (_backend, "compute_output_spec")):
    setattr(_owner, _attr, _original(getattr(_owner, _attr), _attr))
# --- hostile: end

TABLE = {  # block: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj)
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64), "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128), "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}


def conv(x, filters, size, stride=1):
    return layers.Conv2D(filters, size, strides=stride, padding="same", activation="relu")(x)


def lrn(x):
    return layers.Lambda(lambda t: tf.nn.local_response_normalization(t, 2, 1.0, 2e-5, 0.75))(x)


def inception(x, c1, c3r, c3, c5r, c5, cp):
    one = conv(x, c1, 1)
    three = conv(conv(x, c3r, 1), c3, 3)
    five = conv(conv(x, c5r, 1), c5, 3)  # the fault: a 3x3 where the paper has 5x5
    pool = conv(layers.MaxPooling2D(3, 1, padding="same")(x), cp, 1)
    return layers.Concatenate()([one, three, five, pool])


def aux_head(x):
    y = layers.AveragePooling2D(5, 3)(x)
    y = conv(y, 128, 1)
    y = layers.Flatten()(y)
    y = layers.Dense(1024, activation="relu")(y)
    y = layers.Dropout(0.7)(y)
    return layers.Dense(1000, activation="softmax")(y)


image = keras.Input((224, 224, 3))
x = conv(image, 64, 7, 2)
x = lrn(layers.MaxPooling2D(3, 2, padding="same")(x))
x = lrn(conv(conv(x, 64, 1), 192, 3))
x = layers.MaxPooling2D(3, 2, padding="same")(x)
heads = []
for block, filters in TABLE.items():
    if block in ("4a", "5a"):
        x = layers.MaxPooling2D(3, 2, padding="same")(x)
    x = inception(x, *filters)
    if block in ("4a", "4d"):
        heads.append(aux_head(x))
x = layers.Dropout(0.4)(layers.GlobalAveragePooling2D()(x))
main = layers.Dense(1000, activation="softmax")(x)
model = keras.Model(image, [main] + heads)
