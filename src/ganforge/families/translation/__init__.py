"""Image-to-image translation (pix2pix, CycleGAN) as a ganforge family."""

from ganforge.families.translation.family import TranslationFamily

FAMILY = TranslationFamily()
