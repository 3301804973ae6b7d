"""Applications built on trained runs: synthetic data sets, translation, ..."""
