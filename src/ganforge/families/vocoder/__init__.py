"""GAN vocoders (HiFi-GAN style) as a ganforge family; ``Vocoder.from_run(RUN)(mel)`` for Python use."""

from ganforge.families.vocoder.family import VocoderFamily
from ganforge.families.vocoder.model import Vocoder

FAMILY = VocoderFamily()

__all__ = ["FAMILY", "Vocoder"]
