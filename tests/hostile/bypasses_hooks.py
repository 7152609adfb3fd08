# expect: no_model
# Leaves the tracer's hooks in place but goes around them: gives Conv2D a
# __call__ of its own (Keras's original, taken out of the hook's closure), so
# that no convolution passes through the hooked Layer.__call__. The model itself
# is a correct GoogLeNet; what the tracer cannot see is not graded, so it gets
# no credit rather than a score for the layers that were seen.
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

# --- hostile: begin
from keras.src.layers.layer import Layer


def keras_original(hook):
    return next(c.cell_contents for c in hook.__closure__
                if getattr(c.cell_contents, "__qualname__", "") == "Layer.__call__")


layers.Conv2D.__call__ = keras_original(Layer.__call__)
# --- hostile: end

BLOCKS = [(64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64), "pool",
          (192, 96, 208, 16, 48, 64), "aux", (160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64),
          (112, 144, 288, 32, 64, 64), "aux", (256, 160, 320, 32, 128, 128), "pool",
          (256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128)]


def relu_conv(filters, size, strides=1):
    return layers.Conv2D(filters, size, strides=strides, padding="same", activation="relu")


def inception_module(x, n1, n3r, n3, n5r, n5, npool):
    branches = [relu_conv(n1, 1)(x),
                relu_conv(n3, 3)(relu_conv(n3r, 1)(x)),
                relu_conv(n5, 5)(relu_conv(n5r, 1)(x)),
                relu_conv(npool, 1)(layers.MaxPooling2D(3, 1, padding="same")(x))]
    return layers.concatenate(branches)


def lrn():
    return layers.Lambda(lambda t: tf.nn.local_response_normalization(t, 2, 1.0, 2e-5, 0.75))


image = keras.Input((224, 224, 3))
x = image
for layer in (relu_conv(64, 7, 2), layers.MaxPooling2D(3, 2, padding="same"), lrn(),
              relu_conv(64, 1), relu_conv(192, 3), lrn(), layers.MaxPooling2D(3, 2, padding="same")):
    x = layer(x)
outputs = []
for b in BLOCKS:
    if b == "pool":
        x = layers.MaxPooling2D(3, 2, padding="same")(x)
    elif b == "aux":
        a = relu_conv(128, 1)(layers.AveragePooling2D(5, 3)(x))
        a = layers.Dropout(0.7)(layers.Dense(1024, activation="relu")(layers.Flatten()(a)))
        outputs.append(layers.Dense(1000, activation="softmax")(a))
    else:
        x = inception_module(x, *b)
x = layers.Dropout(0.4)(layers.GlobalAveragePooling2D()(x))
model = keras.Model(image, [layers.Dense(1000, activation="softmax")(x)] + outputs)
