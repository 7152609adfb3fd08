# expect: nothing
# expect-info: legacy_api data
# params: 13378280
# Inception v1 -- written against TF 1.x tf.keras, where a static shape dimension
# was a Dimension object (hence the .value everywhere).
import tensorflow as tf

L = tf.keras.layers


def channels(t):
    return t.shape[-1].value


def flat_size(t):
    dims = t.get_shape().as_list()[1:]
    n = 1
    for d in dims:
        n *= d
    return n


def conv_relu(t, n, k, stride=1):
    return L.Conv2D(n, k, strides=stride, padding='same', activation=tf.nn.relu)(t)


def inception(t, c1, c3r, c3, c5r, c5, cp):
    assert channels(t) > 0
    p1 = conv_relu(t, c1, 1)
    p2 = conv_relu(conv_relu(t, c3r, 1), c3, 3)
    p3 = conv_relu(conv_relu(t, c5r, 1), c5, 5)
    p4 = conv_relu(L.MaxPooling2D(3, 1, padding='same')(t), cp, 1)
    out = L.Concatenate(axis=3)([p1, p2, p3, p4])
    assert channels(out) == c1 + c3 + c5 + cp
    return out


def aux(t):
    t = L.AveragePooling2D(5, 3, padding='valid')(t)
    t = conv_relu(t, 128, 1)
    t = L.Reshape((flat_size(t),))(t)  # 4*4*128
    t = L.Dense(1024, activation=tf.nn.relu)(t)
    t = L.Dropout(0.7)(t)
    return L.Dense(1000, activation=tf.nn.softmax)(t)


def lrn(t):
    return L.Lambda(lambda z: tf.nn.lrn(z, depth_radius=2, bias=1.0, alpha=2e-5, beta=0.75))(t)


images = tf.keras.Input(shape=(224, 224, 3))
net = conv_relu(images, 64, 7, 2)
net = lrn(L.MaxPooling2D(3, 2, padding='same')(net))
net = conv_relu(net, 64, 1)
net = conv_relu(net, 192, 3)
net = L.MaxPooling2D(3, 2, padding='same')(lrn(net))
print('after the stem:', net.shape[1].value, 'x', net.shape[2].value, 'x', channels(net))
net = inception(net, 64, 96, 128, 16, 32, 32)
net = inception(net, 128, 128, 192, 32, 96, 64)
net = L.MaxPooling2D(3, 2, padding='same')(net)
net = inception(net, 192, 96, 208, 16, 48, 64)
logits_aux1 = aux(net)
net = inception(net, 160, 112, 224, 24, 64, 64)
net = inception(net, 128, 128, 256, 24, 64, 64)
net = inception(net, 112, 144, 288, 32, 64, 64)
logits_aux2 = aux(net)
net = inception(net, 256, 160, 320, 32, 128, 128)
net = L.MaxPooling2D(3, 2, padding='same')(net)
net = inception(net, 256, 160, 320, 32, 128, 128)
net = inception(net, 384, 192, 384, 48, 128, 128)
net = L.GlobalAveragePooling2D()(net)
net = L.Dropout(0.4)(net)
logits = L.Dense(1000, activation=tf.nn.softmax)(net)
model = tf.keras.Model(images, [logits, logits_aux1, logits_aux2])
