# expect: nothing
# expect-info: training_skipped data
# params: 13378280
"""Train GoogLeNet on Imagenette (tfds), 224x224."""
import tensorflow as tf
import tensorflow_datasets as tfds

AUTOTUNE = tf.data.AUTOTUNE
BATCH = 32
IMAGE_SIZE = 224

(train_ds, val_ds), info = tfds.load('imagenette/320px-v2', split=['train', 'validation'], with_info=True)
NUM_CLASSES = info.features['label'].num_classes
print('train examples:', info.splits['train'].num_examples)


def preprocess(sample):
    image = tf.image.resize(sample['image'], (IMAGE_SIZE, IMAGE_SIZE))
    image = tf.cast(image, tf.float32) / 255.0
    label = tf.one_hot(sample['label'], 1000)
    return image, (label, label, label)


train_ds = train_ds.map(preprocess, num_parallel_calls=AUTOTUNE).shuffle(1000).batch(BATCH).prefetch(AUTOTUNE)
val_ds = val_ds.map(preprocess).batch(BATCH)

for images, labels in train_ds.take(1):
    print('batch', images.shape)


# ---------------- the network ----------------
def convBlock(t, nFilters, kSize, stride=1):
    return tf.keras.layers.Conv2D(nFilters, kSize, strides=stride, padding='same', activation='relu')(t)


def inceptionBlock(t, n1x1, n3x3red, n3x3, n5x5red, n5x5, poolProj):
    towerOne = convBlock(t, n1x1, 1)
    towerTwo = convBlock(convBlock(t, n3x3red, 1), n3x3, 3)
    towerThree = convBlock(convBlock(t, n5x5red, 1), n5x5, 5)
    towerFour = convBlock(tf.keras.layers.MaxPooling2D(3, 1, padding='same')(t), poolProj, 1)
    return tf.keras.layers.Concatenate(axis=-1)([towerOne, towerTwo, towerThree, towerFour])


def auxBlock(t):
    t = tf.keras.layers.AveragePooling2D(5, strides=3)(t)
    t = convBlock(t, 128, 1)
    t = tf.keras.layers.Flatten()(t)
    t = tf.keras.layers.Dense(1024, activation='relu')(t)
    t = tf.keras.layers.Dropout(0.7)(t)
    return tf.keras.layers.Dense(1000, activation='softmax')(t)


def localResponseNorm(t):
    return tf.keras.layers.Lambda(lambda v: tf.nn.local_response_normalization(v, 2, 1.0, 2e-5, 0.75))(t)


inputImage = tf.keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 3))
t = convBlock(inputImage, 64, 7, 2)
t = localResponseNorm(tf.keras.layers.MaxPooling2D(3, 2, padding='same')(t))
t = convBlock(convBlock(t, 64, 1), 192, 3)
t = tf.keras.layers.MaxPooling2D(3, 2, padding='same')(localResponseNorm(t))
t = inceptionBlock(t, 64, 96, 128, 16, 32, 32)
t = inceptionBlock(t, 128, 128, 192, 32, 96, 64)
t = tf.keras.layers.MaxPooling2D(3, 2, padding='same')(t)
t = inceptionBlock(t, 192, 96, 208, 16, 48, 64)
auxOne = auxBlock(t)
t = inceptionBlock(t, 160, 112, 224, 24, 64, 64)
t = inceptionBlock(t, 128, 128, 256, 24, 64, 64)
t = inceptionBlock(t, 112, 144, 288, 32, 64, 64)
auxTwo = auxBlock(t)
t = inceptionBlock(t, 256, 160, 320, 32, 128, 128)
t = tf.keras.layers.MaxPooling2D(3, 2, padding='same')(t)
t = inceptionBlock(t, 256, 160, 320, 32, 128, 128)
t = inceptionBlock(t, 384, 192, 384, 48, 128, 128)
t = tf.keras.layers.Dropout(0.4)(tf.keras.layers.GlobalAveragePooling2D()(t))
mainOut = tf.keras.layers.Dense(1000, activation='softmax')(t)
googLeNet = tf.keras.Model(inputImage, [mainOut, auxOne, auxTwo])

googLeNet.compile(optimizer=tf.keras.optimizers.SGD(0.01, momentum=0.9),
                  loss='categorical_crossentropy', loss_weights=[1, 0.3, 0.3], metrics=['accuracy'])
history = googLeNet.fit(train_ds, validation_data=val_ds, epochs=40)
