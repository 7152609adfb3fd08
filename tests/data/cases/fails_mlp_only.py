# expect: layer_type conv1/7x7_s2
# expect: layer_missing pool1/3x3_s2
# expect: layer_missing pool5/7x7_s1
# score: 0
# A multilayer perceptron on the flattened image, handed in as "GoogLeNet".
import tensorflow as tf

model = tf.keras.Sequential([
    tf.keras.layers.Input(shape=(224, 224, 3)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(512, activation="relu"),
    tf.keras.layers.Dropout(0.4),
    tf.keras.layers.Dense(1000, activation="softmax"),
], name="googlenet")
