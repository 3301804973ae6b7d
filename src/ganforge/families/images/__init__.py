"""Noise-to-image GANs (unconditional and class-conditional) as a ganforge family."""

from ganforge.families.images.family import ImagesFamily

FAMILY = ImagesFamily()
