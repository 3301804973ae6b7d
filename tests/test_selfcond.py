"""Self-conditioning: k-means cluster labels, a conditional model on them, samples drawn by cluster sizes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganforge import GanforgeError, load_config, train
from ganforge.data import build_dataset
from ganforge.data.clusters import cluster_features, cluster_labels, clusters_for
from ganforge.data.hog import hog_batch
from ganforge.families.images.generate import class_labels, labels_by_prior
from ganforge.runs import load_run

pytestmark = pytest.mark.usefixtures("single_thread")


def test_clusters_separate_obvious_groups_and_repeat_for_a_seed():
    dark = torch.randint(0, 30, (12, 1, 8, 8), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    bright = torch.randint(220, 255, (8, 1, 8, 8), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    labels = cluster_labels(torch.cat([dark, bright]), clusters=2, seed=3, features="pixels")
    assert len(set(labels[:12].tolist())) == 1 and len(set(labels[12:].tolist())) == 1
    assert labels[0] != labels[12]
    assert torch.equal(labels, cluster_labels(torch.cat([dark, bright]), clusters=2, seed=3, features="pixels"))
    with pytest.raises(GanforgeError, match="data.clusters=1"):
        cluster_labels(dark, clusters=1, seed=0)


def test_hog_clusters_by_stroke_direction_where_pixels_cluster_by_brightness():
    images = torch.zeros(24, 1, 16, 16, dtype=torch.uint8)
    for i in range(24):
        background = 20 if i % 2 else 180
        images[i] = background
        at = 6 + i % 3
        if i < 12:
            images[i, 0, :, at:at + 2] = background + 60  # vertical strokes on dark and on bright paper
        else:
            images[i, 0, at:at + 2, :] = background + 60  # horizontal strokes
    by_hog = cluster_labels(images, clusters=2, seed=0)  # HOG is the default
    assert set(by_hog[:12].tolist()) == {int(by_hog[0])} and set(by_hog[12:].tolist()) == {int(by_hog[12])}
    assert by_hog[0] != by_hog[12]
    by_pixels = cluster_labels(images, clusters=2, seed=0, features="pixels")
    assert set(by_pixels[::2].tolist()) == {int(by_pixels[0])} != {int(by_pixels[1])}  # by brightness
    assert cluster_features(images, "hog").shape == (24, 324)
    assert cluster_features(torch.zeros(2, 3, 32, 32, dtype=torch.uint8), "hog").shape == (2, 324)
    with pytest.raises(GanforgeError, match="cluster_features=edges"):
        cluster_features(images, "edges")


def test_batched_hog_is_scikit_images_descriptor():
    from skimage.feature import hog

    digits = build_dataset("digits").images[:40].float() / 255.0
    expected = [hog(im, orientations=9, pixels_per_cell=(7, 7), cells_per_block=(2, 2)) for im in digits[:, 0].numpy()]
    assert torch.allclose(hog_batch(digits, 7), torch.tensor(np.stack(expected), dtype=torch.float32), atol=1e-5)
    colour = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    expected = [hog(im, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), channel_axis=-1)
                for im in colour.permute(0, 2, 3, 1).numpy()]
    assert torch.allclose(hog_batch(colour, 8), torch.tensor(np.stack(expected), dtype=torch.float32), atol=1e-5)


def test_large_data_sets_are_clustered_from_a_sample_and_every_image_is_labelled(monkeypatch):
    import ganforge.data.clusters as clusters

    monkeypatch.setattr(clusters, "FIT_SAMPLE", 10)
    gen = torch.Generator().manual_seed(0)
    dark = torch.randint(0, 30, (40, 1, 8, 8), generator=gen, dtype=torch.uint8)
    bright = torch.randint(220, 255, (30, 1, 8, 8), generator=gen, dtype=torch.uint8)
    labels = cluster_labels(torch.cat([dark, bright]), clusters=2, seed=1, features="pixels")
    assert labels.shape == (70,) and set(labels[:40].tolist()) == {int(labels[0])}
    assert set(labels[40:].tolist()) == {int(labels[40])} != {int(labels[0])}


def test_labels_by_prior_give_each_class_its_share():
    labels = labels_by_prior(10, torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64))
    assert torch.bincount(labels).tolist() == [5, 3, 2]
    assert not torch.equal(labels, labels.sort().values)  # mixed, not in blocks
    assert torch.bincount(labels_by_prior(7, torch.tensor([1.0, 1.0, 1.0]))).tolist() == [3, 2, 2]


TINY = ["data.name=digits8", "data.batch_size=16", "data.clusters=4", "model.z_dim=16", "model.g_width=8",
        "model.d_width=8", "train.steps=4", "train.log_every=2", "train.sample_every=2", "train.grid_size=4",
        "train.device=cpu"]


def test_a_self_conditioned_run_samples_its_clusters_by_their_sizes(tmp_path):
    run = train(load_config("selfcond", overrides=TINY), out=tmp_path / "r", progress=False)
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert len(state["label_prior"]) == 4 and sum(state["label_prior"]) == pytest.approx(1.0)
    loaded = load_run(run)
    generator = loaded.model.generator
    assert loaded.config.model.num_classes == 4
    counts = torch.bincount(class_labels(generator, 1000, None), minlength=4).double() / 1000
    assert counts.tolist() == pytest.approx(state["label_prior"], abs=1e-3)
    assert class_labels(generator, 3, 2).tolist() == [2, 2, 2]  # one cluster on request


def test_self_conditioning_steps_aside_where_it_cannot_work(capsys):
    from ganforge.families import family_of

    config = load_config("selfcond", overrides=["data.name=digits8", "data.clusters=500", "train.device=cpu"])
    family = family_of(config)
    data = family.build_data(config)  # 1,797 images: 89 clusters of about 20
    fitted = family.fit_config(config, data)
    assert data.num_classes == 89 and fitted.data.clusters == 89 and fitted.model.num_classes == 89
    assert "data.clusters=500 lowered to 89 for 1797 images" in capsys.readouterr().err
    unconditional = load_config("default", overrides=["data.name=digits8", "data.clusters=3", "model.g_cond=none",
                                                      "model.d_cond=none"])
    data = family.build_data(unconditional)
    assert family.fit_config(unconditional, data).data.clusters == 0 and data.num_classes == 10  # its own labels
    assert "data.clusters=3 ignored: model.arch=dcgan is unconditional" in capsys.readouterr().err
    assert clusters_for(100, 39) == 0 and clusters_for(100, 40) == 2 and clusters_for(100, 5000) == 100
