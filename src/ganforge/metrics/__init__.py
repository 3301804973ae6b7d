"""Sample-quality metrics: the math on feature arrays, and the FID Inception-v3 that extracts the features."""

from ganforge.metrics.frechet import feature_stats, frechet_distance, frechet_distance_from_stats
from ganforge.metrics.inception import FIDInceptionV3, find_fid_weights, load_fid_inception
from ganforge.metrics.inception_score import inception_score
from ganforge.metrics.kid import kernel_inception_distance
from ganforge.metrics.manifold import density_coverage, precision_recall

__all__ = [
    "FIDInceptionV3",
    "density_coverage",
    "feature_stats",
    "find_fid_weights",
    "frechet_distance",
    "frechet_distance_from_stats",
    "inception_score",
    "kernel_inception_distance",
    "load_fid_inception",
    "precision_recall",
]
