"""Synthetic tables: a CTGAN-class GAN for CSV data as a ganforge family."""

from ganforge.families.tabular.family import TabularFamily

FAMILY = TabularFamily()
