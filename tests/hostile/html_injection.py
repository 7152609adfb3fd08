# expect: any
# Markup in layer names and in printed output must be escaped in every report.
import keras
from keras import layers
print('<script>alert("printed")</script><img src=x onerror=alert(1)>')
inp = keras.Input((224, 224, 3))
x = layers.Conv2D(64, 7, 2, padding="same", activation="relu", name="<img src=x onerror=alert(1)>")(inp)
x = layers.GlobalAveragePooling2D(name="gap")(x)
out = layers.Dense(1000, activation="softmax", name="out")(x)
model = keras.Model(inp, out, name='m"><img src=x onerror=alert(2)>')
