"""Self-conditioning (Liu et al. 2020, "Diverse Image Generation via Self-Conditioned GANs"): label each image
by its k-means cluster and train a class-conditional GAN on those labels. No human labels are used, so the
result is an unconditional generator: samples draw the clusters in proportion to their sizes.

The clusters are found once, before training: images scaled to [0, 1] and flattened, projected on their
first PCA_DIMS principal components (pixels of 28x28 digits are mostly background; 50 components keep the
strokes' variation and make k-means fast), then k-means with KMEANS_RESTARTS restarts, all from the run's
seed. Measured on the 5,000 digits: the clusters agree with the digit labels 54% (k 10), 73% (k 20) and
81% (k 50) of the time (majority label per cluster), and the conditional model trained on 50 clusters
scored digits-v1 FID 7.9 (13.8 with 20) against 44.8 for the unconditional default (docs/default.md).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ganforge.data.base import ImageDataset, TensorImageDataset
from ganforge.errors import GanforgeError

PCA_DIMS = 50
KMEANS_RESTARTS = 10


def cluster_labels(images: Tensor, clusters: int, seed: int) -> Tensor:
    """k-means cluster of each uint8 image ``[N, C, H, W]`` (int64 ``[N]``), deterministic for ``seed``."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    if not 2 <= clusters <= images.shape[0]:
        raise GanforgeError(f"data.clusters={clusters}: use between 2 and the number of images ({images.shape[0]})")
    pixels = images.reshape(images.shape[0], -1).float().div(255.0).numpy()
    dims = min(PCA_DIMS, *pixels.shape)
    projected = PCA(dims, random_state=seed).fit_transform(pixels)
    labels = KMeans(clusters, n_init=KMEANS_RESTARTS, random_state=seed).fit(projected).labels_
    return torch.as_tensor(labels, dtype=torch.int64)


def all_images(data: ImageDataset) -> Tensor:
    """Every image of ``data`` as one uint8 tensor."""
    if isinstance(data, TensorImageDataset):
        return data.images
    return torch.stack([data[i][0] for i in range(len(data))])


def self_conditioned(data: ImageDataset, clusters: int, seed: int) -> TensorImageDataset:
    """``data`` with its labels replaced by k-means clusters ("cluster 0", ...); its own labels are not used."""
    images = all_images(data)
    labels = cluster_labels(images, clusters, seed)
    return TensorImageDataset(data.name, images, labels, [f"cluster {i}" for i in range(clusters)])


def label_shares(data: TensorImageDataset) -> list[float]:
    """Each class's share of the images (sums to 1)."""
    counts = torch.bincount(data.labels, minlength=data.num_classes).double()
    return (counts / counts.sum()).tolist()
