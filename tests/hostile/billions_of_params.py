# expect: memory_limit|build_error
# Asks for billions of parameters.
import keras
from keras import layers
inp = keras.Input((224, 224, 3))
x = layers.Flatten()(inp)
x = layers.Dense(200_000)(x)
model = keras.Model(inp, x)
