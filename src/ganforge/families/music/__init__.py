"""Music generation: a MuseGAN-style GAN on multi-track piano rolls (Bach chorales, MIDI folders)."""

from ganforge.families.music.family import MusicFamily

FAMILY = MusicFamily()
