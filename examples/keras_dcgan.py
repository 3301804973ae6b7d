"""The Keras/TensorFlow DCGAN tutorial's networks, written as Keras 3 layers, for ``model.arch: keras``.

ganforge calls each factory with ``z_dim``, ``image_shape`` (channels, height, width) and ``num_classes``
(plus ``model.kwargs``) and trains the models under Keras's PyTorch backend. As in the tutorial: G is
Dense -> BatchNorm -> LeakyReLU -> three 5x5 transposed convolutions (strides 1, 2, 2) ending in tanh; D is two
5x5 stride-2 convolutions with LeakyReLU and dropout, then one Dense unit. D returns a raw logit (no sigmoid),
as the tutorial's `from_logits=True` loss expects. Images are channels-last inside Keras; ganforge converts.
"""

import keras
from keras import layers


def make_generator(z_dim=100, image_shape=(1, 28, 28), num_classes=0, width=256):
    channels, height, _ = image_shape
    start = height // 4
    return keras.Sequential([
        keras.Input((z_dim,)),
        layers.Dense(start * start * width, use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(),
        layers.Reshape((start, start, width)),
        layers.Conv2DTranspose(width // 2, 5, strides=1, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(),
        layers.Conv2DTranspose(width // 4, 5, strides=2, padding="same", use_bias=False),
        layers.BatchNormalization(),
        layers.LeakyReLU(),
        layers.Conv2DTranspose(channels, 5, strides=2, padding="same", use_bias=False, activation="tanh"),
    ], name="generator")


def make_discriminator(z_dim=100, image_shape=(1, 28, 28), num_classes=0, width=256):
    channels, height, width_px = image_shape
    return keras.Sequential([
        keras.Input((height, width_px, channels)),
        layers.Conv2D(width // 4, 5, strides=2, padding="same"),
        layers.LeakyReLU(),
        layers.Dropout(0.3),
        layers.Conv2D(width // 2, 5, strides=2, padding="same"),
        layers.LeakyReLU(),
        layers.Dropout(0.3),
        layers.Flatten(),
        layers.Dense(1),
    ], name="discriminator")
