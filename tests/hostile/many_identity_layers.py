# expect: too_many_layers
# 3,100 identity layers made in a loop (Activation('linear')), side
# by side on one feature map and added back together, around a small real
# network: the grader's own analysis must stay bounded, and the size is a
# finding of its own rather than minutes of graph work. (Side by side: a chain
# this long makes Keras itself recurse too deep in keras.Model.)
import keras
from keras import layers

inp = keras.Input((224, 224, 3))
x = layers.Conv2D(8, 7, strides=2, padding="same", activation="relu")(inp)
x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
branches = []
for i in range(3100):
    branches.append(layers.Activation("linear", name=f"identity_{i}")(x))
x = layers.Add()(branches)
x = layers.GlobalAveragePooling2D()(x)
out = layers.Dense(1000, activation="softmax")(x)
model = keras.Model(inp, out)
