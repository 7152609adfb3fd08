# expect: no_model data
# status: failed
"""Assignment 3 -- GoogLeNet.

Part 1 (inception module) is done, part 2 (the full network) is still TODO:
I ran out of time, sorry.
"""
from tensorflow import keras
from tensorflow.keras import layers


def inception_module(x, f1, f3r, f3, f5r, f5, fpp):
    """One inception module (Fig. 2b of the paper)."""
    p1 = layers.Conv2D(f1, 1, padding="same", activation="relu")(x)
    p2 = layers.Conv2D(f3r, 1, padding="same", activation="relu")(x)
    p2 = layers.Conv2D(f3, 3, padding="same", activation="relu")(p2)
    p3 = layers.Conv2D(f5r, 1, padding="same", activation="relu")(x)
    p3 = layers.Conv2D(f5, 5, padding="same", activation="relu")(p3)
    p4 = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    p4 = layers.Conv2D(fpp, 1, padding="same", activation="relu")(p4)
    return layers.concatenate([p1, p2, p3, p4], axis=-1)


# TODO: stem
# TODO: inception 3a ... 5b
# TODO: auxiliary classifiers
# TODO: head
