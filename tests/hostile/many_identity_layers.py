# expect: too_many_layers
# 5,200 identity layers in a loop (Activation('linear') and Lambda) around a
# small real network: the grader's own analysis must stay bounded, and the size
# is a finding of its own rather than minutes of graph work.
import keras
from keras import layers

inp = keras.Input((224, 224, 3))
x = layers.Conv2D(8, 7, strides=2, padding="same", activation="relu")(inp)
x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
for i in range(2600):
    x = layers.Activation("linear", name=f"identity_{i}")(x)
    x = layers.Lambda(lambda t: t, name=f"lambda_identity_{i}")(x)
x = layers.GlobalAveragePooling2D()(x)
out = layers.Dense(1000, activation="softmax")(x)
model = keras.Model(inp, out)
