"""Text-to-image: a DF-GAN-style generator conditioned on sentences, on captioned shapes or your own captions."""

from ganforge.families.text2image.family import Text2ImageFamily

FAMILY = Text2ImageFamily()
