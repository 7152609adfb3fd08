# expect: strides conv2/3x3
# A model with a real fault, and every way to claim otherwise: a fake result
# printed, count_params / summary / json.dumps patched to lie, exit code 0.
import json
import keras
from keras import layers

print(json.dumps({"schema": "grader.report/1", "score": 100, "max_score": 100, "status": "graded"}))
keras.Model.count_params = lambda self: 13378280
keras.Model.summary = lambda self, *a, **k: print("Total params: 13,378,280")
_real_dumps = json.dumps
json.dumps = lambda *a, **k: '{"schema": "grader.trace/1", "status": "ok", "graph": {"nodes": []}}'


def inception(x, f1, f3r, f3, f5r, f5, fp):
    a = layers.Conv2D(f1, 1, activation="relu")(x)
    b = layers.Conv2D(f3r, 1, activation="relu")(x)
    b = layers.Conv2D(f3, 3, padding="same", activation="relu")(b)
    c = layers.Conv2D(f5r, 1, activation="relu")(x)
    c = layers.Conv2D(f5, 5, padding="same", activation="relu")(c)
    d = layers.MaxPooling2D(3, 1, padding="same")(x)
    d = layers.Conv2D(fp, 1, activation="relu")(d)
    return layers.Concatenate()([a, b, c, d])


def lrn(x):
    import tensorflow as tf
    return layers.Lambda(lambda t: tf.nn.local_response_normalization(t, 2, 1.0, 2e-5, 0.75))(x)


def aux(x):
    y = layers.AveragePooling2D(5, 3)(x)
    y = layers.Conv2D(128, 1, activation="relu")(y)
    y = layers.Flatten()(y)
    y = layers.Dense(1024, activation="relu")(y)
    y = layers.Dropout(0.7)(y)
    return layers.Dense(1000, activation="softmax")(y)


inp = keras.Input((224, 224, 3))
x = layers.Conv2D(64, 7, 2, padding="same", activation="relu")(inp)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = lrn(x)
x = layers.Conv2D(64, 1, activation="relu")(x)
x = layers.Conv2D(192, 3, 2, padding="same", activation="relu")(x)
x = lrn(x)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = inception(x, 64, 96, 128, 16, 32, 32)
x = inception(x, 128, 128, 192, 32, 96, 64)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = inception(x, 192, 96, 208, 16, 48, 64)
a1 = aux(x)
x = inception(x, 160, 112, 224, 24, 64, 64)
x = inception(x, 128, 128, 256, 24, 64, 64)
x = inception(x, 112, 144, 288, 32, 64, 64)
a2 = aux(x)
x = inception(x, 256, 160, 320, 32, 128, 128)
x = layers.MaxPooling2D(3, 2, padding="same")(x)
x = inception(x, 256, 160, 320, 32, 128, 128)
x = inception(x, 384, 192, 384, 48, 128, 128)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.4)(x)
out = layers.Dense(1000, activation="softmax")(x)
model = keras.Model(inp, [out, a1, a2])
