"""Toy 2D mixtures of Gaussians (the mode-collapse test) as a ganforge family."""

from ganforge.families.toy2d.family import Toy2DFamily

FAMILY = Toy2DFamily()
