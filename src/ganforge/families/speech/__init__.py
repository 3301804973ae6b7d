"""Speech as ganforge families: spoken words from noise (``speech``, SpecGAN style) here, the GAN vocoder in
``ganforge.families.vocoder``; shared audio I/O, spectrograms, corpora and metrics live in this package."""

from ganforge.families.speech.family import SpeechFamily

FAMILY = SpeechFamily()
