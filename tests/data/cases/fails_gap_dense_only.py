# expect: layer_missing conv1/7x7_s2
# expect: layer_missing pool5/drop_7x7_s1
# score: 0
# The whole "network" is a global average pool and a classifier on the image:
# none of GoogLeNet's structure, so none of its points.
from tensorflow import keras
from tensorflow.keras import layers

inputs = keras.Input(shape=(224, 224, 3))
x = layers.GlobalAveragePooling2D()(inputs)
outputs = layers.Dense(1000, activation="softmax")(x)
model = keras.Model(inputs, outputs, name="googlenet")
