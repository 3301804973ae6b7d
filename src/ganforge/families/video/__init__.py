"""Video generation (moving digits, MoCoGAN) as a ganforge family."""

from ganforge.families.video.family import VideoFamily

FAMILY = VideoFamily()
