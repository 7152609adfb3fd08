# expect: nothing
# expect-info: import_stubbed data
# expect-warning: script_error data
# params: 13378280
# HW3 - GoogLeNet. I used the helpers from the course repo (hw_utils.py, not
# included here) for seeding and plots, and sklearn/seaborn for the evaluation.
import numpy as np
import matplotlib.pyplot as plt
import seaborn as sns
from sklearn.model_selection import train_test_split
from sklearn.metrics import confusion_matrix, classification_report
from tqdm import tqdm
from hw_utils import set_seed, plot_history

import tensorflow as tf
from tensorflow.keras import layers, models

set_seed(42)
sns.set_theme(style="whitegrid")
plt.rcParams["figure.figsize"] = (10, 6)

NUM_CLASSES = 1000
IMG = (224, 224, 3)

# (name, 1x1, 3x3red, 3x3, 5x5red, 5x5, poolproj)
CFG = [
    ("3a", 64, 96, 128, 16, 32, 32),
    ("3b", 128, 128, 192, 32, 96, 64),
    ("4a", 192, 96, 208, 16, 48, 64),
    ("4b", 160, 112, 224, 24, 64, 64),
    ("4c", 128, 128, 256, 24, 64, 64),
    ("4d", 112, 144, 288, 32, 64, 64),
    ("4e", 256, 160, 320, 32, 128, 128),
    ("5a", 256, 160, 320, 32, 128, 128),
    ("5b", 384, 192, 384, 48, 128, 128),
]


def conv(t, n, k, s=1):
    return layers.Conv2D(n, k, strides=s, padding="same", activation="relu")(t)


def norm(t):
    return layers.Lambda(lambda z: tf.nn.local_response_normalization(z, depth_radius=2, bias=1.0,
                                                                     alpha=2e-5, beta=0.75))(t)


def inception_block(t, c):
    _, n1, r3, n3, r5, n5, pp = c
    a = conv(t, n1, 1)
    b = conv(conv(t, r3, 1), n3, 3)
    d = conv(conv(t, r5, 1), n5, 5)
    e = conv(layers.MaxPooling2D(3, strides=1, padding="same")(t), pp, 1)
    return layers.concatenate([a, b, d, e])


def side_head(t):
    t = layers.AveragePooling2D(5, strides=3)(t)
    t = conv(t, 128, 1)
    t = layers.Flatten()(t)
    t = layers.Dense(1024, activation="relu")(t)
    t = layers.Dropout(0.7)(t)
    return layers.Dense(NUM_CLASSES, activation="softmax")(t)


inp = layers.Input(IMG)
h = conv(inp, 64, 7, 2)
h = layers.MaxPooling2D(3, 2, padding="same")(h)
h = norm(h)
h = conv(h, 64, 1)
h = conv(h, 192, 3)
h = norm(h)
h = layers.MaxPooling2D(3, 2, padding="same")(h)
heads = []
for c in CFG:
    h = inception_block(h, c)
    if c[0] in ("3b", "4e"):
        h = layers.MaxPooling2D(3, 2, padding="same")(h)
    if c[0] in ("4a", "4d"):
        heads.append(side_head(h))
h = layers.GlobalAveragePooling2D()(h)
h = layers.Dropout(0.4)(h)
out = layers.Dense(NUM_CLASSES, activation="softmax")(h)
model = models.Model(inp, [out] + heads)

# ---- evaluation on my small dataset ----
X = np.random.rand(20, 224, 224, 3).astype("float32")
y = np.random.randint(0, NUM_CLASSES, size=20)
x_tr, x_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, random_state=0)
model.compile("adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
hist = model.fit(x_tr, [y_tr] * 3, epochs=2, batch_size=4)
plot_history(hist)
preds = []
for xb in tqdm(np.array_split(x_te, 3)):
    preds.append(np.argmax(model.predict(xb)[0], axis=1))
cm = confusion_matrix(y_te, np.concatenate(preds))
sns.heatmap(cm, annot=False)
plt.title("confusion matrix")
plt.show()
print(classification_report(y_te, np.concatenate(preds)))
