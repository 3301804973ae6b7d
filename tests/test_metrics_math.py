"""Metric math on feature arrays: FD, KID, IS, precision/recall, density/coverage (all fast, CPU, float64)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from ganforge.errors import GanforgeError
from ganforge.metrics import (
    density_coverage,
    feature_stats,
    frechet_distance,
    frechet_distance_from_stats,
    inception_score,
    kernel_inception_distance,
    manifold,
    precision_recall,
)
from ganforge.metrics import kid as kid_module

pytestmark = pytest.mark.usefixtures("single_thread")


def scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook formula with scipy's general matrix square root (pytorch-fid's way)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean).real)


def mixture(rng: np.random.Generator, n: int, modes: list[int], dim: int = 8) -> np.ndarray:
    """Samples of a mixture of 4 unit Gaussians centred 20 apart on the axes, restricted to ``modes``."""
    centers = np.zeros((4, dim))
    centers[np.arange(4), np.arange(4)] = 20.0
    labels = rng.choice(modes, size=n)
    return centers[labels] + rng.standard_normal((n, dim))


# ---------------------------------------------------------------- Fréchet distance


def test_feature_stats_match_numpy() -> None:
    feats = np.random.default_rng(0).standard_normal((200, 7))
    mu, sigma = feature_stats(torch.from_numpy(feats).float())
    assert mu.dtype == np.float64 and sigma.shape == (7, 7)
    np.testing.assert_allclose(mu, feats.astype(np.float32).mean(0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(sigma, np.cov(feats.astype(np.float32), rowvar=False), rtol=1e-6, atol=1e-7)


def test_frechet_of_a_set_with_itself_is_zero() -> None:
    feats = np.random.default_rng(1).standard_normal((1000, 32)) * 3 + 1
    assert abs(frechet_distance(feats, feats)) < 1e-6
    assert abs(frechet_distance(torch.from_numpy(feats), feats)) < 1e-6


@pytest.mark.parametrize(("n", "dim"), [(500, 2), (500, 16), (400, 64), (1000, 128)])
def test_frechet_agrees_with_scipy_sqrtm(n: int, dim: int) -> None:
    rng = np.random.default_rng(dim)
    mix = rng.standard_normal((dim, dim)) / np.sqrt(dim)
    a = rng.standard_normal((n, dim)) @ mix
    b = rng.standard_normal((n, dim)) @ (mix + 0.3 * np.eye(dim)) + 0.2
    ours, ref = frechet_distance(a, b), scipy_frechet(a, b)
    assert ours == pytest.approx(ref, rel=1e-6)


def test_frechet_rank_deficient_is_finite_and_close() -> None:
    """More dimensions than samples: both covariances are singular (rank N - 1 < D)."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((40, 96)), rng.standard_normal((50, 96)) * 1.5 + 0.1
    ours = frechet_distance(a, b)
    ref = scipy_frechet(a, b)
    assert np.isfinite(ours)
    assert ours == pytest.approx(ref, rel=1e-6)
    assert abs(frechet_distance(a, a)) < 1e-6 * np.trace(np.cov(a, rowvar=False))


def test_frechet_closed_forms() -> None:
    rng = np.random.default_rng(4)
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    a, b = rng.uniform(0.1, 4, 6), rng.uniform(0.1, 4, 6)
    mu1, mu2 = rng.standard_normal(6), rng.standard_normal(6)
    # Covariances sharing eigenvectors: FD = |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2.
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(a) - np.sqrt(b)) ** 2).sum()
    got = frechet_distance_from_stats(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
    assert got == pytest.approx(expected, rel=1e-10)
    # Scaled covariance S2 = c S1 (any S1): FD = Tr(S1) (1 - sqrt(c))^2.
    m = rng.standard_normal((6, 6))
    s1 = m @ m.T
    assert frechet_distance_from_stats(mu1, s1, mu1, 2.25 * s1) == pytest.approx(np.trace(s1) * 0.25, rel=1e-10)
    # One dimension: (m1 - m2)^2 + (s1 - s2)^2 for standard deviations s1, s2.
    assert frechet_distance_from_stats([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4.0 + 1.0)


def test_frechet_of_samples_approaches_the_closed_form() -> None:
    rng = np.random.default_rng(5)
    a = rng.standard_normal((20000, 4)) * np.array([1.0, 2.0, 0.5, 1.0])
    b = rng.standard_normal((20000, 4)) * np.array([1.0, 1.0, 0.5, 2.0]) + np.array([1.0, 0.0, 0.0, 0.0])
    assert frechet_distance(a, b) == pytest.approx(1.0 + 1.0 + 1.0, abs=0.1)


def test_frechet_rejects_bad_input() -> None:
    rng = np.random.default_rng(6)
    with pytest.raises(GanforgeError, match="dimension"):
        frechet_distance(rng.standard_normal((10, 3)), rng.standard_normal((10, 4)))
    bad = rng.standard_normal((10, 3))
    bad[2, 1] = np.nan
    with pytest.raises(GanforgeError, match="NaN"):
        frechet_distance(bad, rng.standard_normal((10, 3)))
    with pytest.raises(GanforgeError, match="at least 2"):
        frechet_distance(rng.standard_normal((1, 3)), rng.standard_normal((10, 3)))
    with pytest.raises(GanforgeError, match="do not match"):
        frechet_distance_from_stats(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


# ---------------------------------------------------------------- KID


def test_kid_of_one_distribution_is_about_zero() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((600, 16)), rng.standard_normal((600, 16))
    mean, std = kernel_inception_distance(a, b, subsets=50, subset_size=200)
    assert abs(mean) < max(3 * std, 1e-3)


def test_kid_grows_monotonically_with_the_shift() -> None:
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((400, 16)), rng.standard_normal((400, 16))
    means = [kernel_inception_distance(a, b + shift, subsets=20, subset_size=200)[0] for shift in (0, 0.2, 0.5, 1, 2)]
    assert means == sorted(means)
    assert means[-1] > 100 * abs(means[0])


def test_kid_caps_the_subset_size_and_is_seeded() -> None:
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((50, 8)), rng.standard_normal((30, 8)) + 0.5
    first = kernel_inception_distance(a, b, subsets=10, subset_size=1000, seed=3)
    assert first == kernel_inception_distance(a, b, subsets=10, subset_size=1000, seed=3)
    assert first[0] > 0
    with pytest.raises(GanforgeError, match="subset_size"):
        kernel_inception_distance(a, b, subset_size=1)


def test_kid_both_evaluation_paths_agree() -> None:
    rng = np.random.default_rng(10)
    x = torch.from_numpy(rng.standard_normal((120, 12)))
    y = torch.from_numpy(rng.standard_normal((90, 12)) * 1.2)
    draws = [(rng.choice(120, 60, replace=False), rng.choice(90, 60, replace=False)) for _ in range(7)]
    args = (3, 1 / 12, 1.0)
    direct = kid_module._subset_mmds_direct(x, y, draws, args)
    all_pairs = kid_module._subset_mmds_all_pairs(x, y, draws, args)
    np.testing.assert_allclose(all_pairs, direct, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(("n", "subsets"), [(300, 40), (300, 3)])  # all-pairs path, per-subset path
def test_kid_matches_torch_fidelity(n: int, subsets: int) -> None:
    metric_kid = pytest.importorskip("torch_fidelity.metric_kid")
    rng = np.random.default_rng(11)
    a, b = rng.random((n, 32)), rng.random((n, 32)) * 1.1
    ours = kernel_inception_distance(a, b, subsets=subsets, subset_size=100, seed=5)
    ref = metric_kid.kid_features_to_metric(
        torch.from_numpy(a),
        torch.from_numpy(b),
        kid_subsets=subsets,
        kid_subset_size=100,
        rng_seed=5,
        verbose=False,
        kid_kernel="poly",
        kid_kernel_poly_degree=3,
        kid_kernel_poly_gamma=None,
        kid_kernel_poly_coef0=1,
    )
    assert ours[0] == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-9)
    assert ours[1] == pytest.approx(ref["kernel_inception_distance_std"], rel=1e-9)


# ---------------------------------------------------------------- Inception Score


def test_inception_score_of_uniform_predictions_is_one() -> None:
    mean, std = inception_score(np.full((100, 10), 0.1), splits=10, from_logits=False)
    assert mean == pytest.approx(1.0, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)
    assert inception_score(np.zeros((100, 10)), splits=5)[0] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("classes", [2, 10, 37])
def test_inception_score_of_confident_balanced_predictions_is_the_class_count(classes: int) -> None:
    onehot = np.eye(classes)[np.arange(5 * classes) % classes]
    assert inception_score(onehot, splits=5, from_logits=False)[0] == pytest.approx(classes, rel=1e-12)
    assert inception_score(60.0 * onehot, splits=5)[0] == pytest.approx(classes, rel=1e-9)


def test_inception_score_rejects_logits_passed_as_probabilities() -> None:
    with pytest.raises(GanforgeError, match="from_logits=True"):
        inception_score(np.random.default_rng(12).standard_normal((20, 5)), splits=2, from_logits=False)
    with pytest.raises(GanforgeError, match="at least 10"):
        inception_score(np.zeros((5, 3)), splits=10)


def test_inception_score_matches_torch_fidelity() -> None:
    metric_isc = pytest.importorskip("torch_fidelity.metric_isc")
    logits = torch.from_numpy(np.random.default_rng(13).standard_normal((500, 1008)) * 3)
    ours = inception_score(logits, splits=10, shuffle_seed=2020)
    ref = metric_isc.isc_features_to_metric(logits, splits=10, shuffle=True, rng_seed=2020)
    assert ours[0] == pytest.approx(ref["inception_score_mean"], rel=1e-10)
    assert ours[1] == pytest.approx(ref["inception_score_std"], rel=1e-8)


# ---------------------------------------------------------------- precision / recall, density / coverage


def brute_force_prdc(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[float, float, float, float]:
    """Precision, recall, density, coverage straight from the definitions with full distance matrices."""
    d_rr = np.linalg.norm(real[:, None] - real[None], axis=-1)
    d_ff = np.linalg.norm(fake[:, None] - fake[None], axis=-1)
    d_fr = np.linalg.norm(fake[:, None] - real[None], axis=-1)
    r_real, r_fake = np.sort(d_rr, axis=1)[:, k], np.sort(d_ff, axis=1)[:, k]
    precision = (d_fr <= r_real[None]).any(axis=1).mean()
    recall = (d_fr <= r_fake[:, None]).any(axis=0).mean()
    density = (d_fr < r_real[None]).sum() / (k * len(fake))
    coverage = (d_fr.min(axis=0) < r_real).mean()
    return float(precision), float(recall), float(density), float(coverage)


@pytest.mark.parametrize("chunk_entries", [1 << 23, 1000])  # one chunk, many chunks
def test_manifold_metrics_follow_the_definitions(monkeypatch: pytest.MonkeyPatch, chunk_entries: int) -> None:
    monkeypatch.setattr(manifold, "_CHUNK_ENTRIES", chunk_entries)
    rng = np.random.default_rng(14)
    real, fake = rng.standard_normal((150, 5)), rng.standard_normal((120, 5)) * 1.3 + 0.3
    precision, recall, density, coverage = brute_force_prdc(real, fake, k=3)
    assert precision_recall(real, fake, k=3) == pytest.approx((precision, recall), abs=1e-12)
    assert density_coverage(real, fake, k=3) == pytest.approx((density, coverage), abs=1e-12)


def test_precision_recall_of_one_distribution_are_high() -> None:
    rng = np.random.default_rng(15)
    precision, recall = precision_recall(rng.standard_normal((1000, 8)), rng.standard_normal((1000, 8)), k=3)
    assert precision > 0.6 and recall > 0.6


def test_precision_recall_of_dropped_modes() -> None:
    rng = np.random.default_rng(16)
    real, fake = mixture(rng, 2000, [0, 1, 2, 3]), mixture(rng, 1000, [0, 1])
    precision, recall = precision_recall(real, fake, k=3)
    assert precision > 0.6
    assert 0.4 < recall < 0.6


def test_precision_recall_far_away_are_zero() -> None:
    rng = np.random.default_rng(17)
    real = rng.standard_normal((500, 8))
    assert precision_recall(real, rng.standard_normal((500, 8)) + 50.0, k=3) == (0.0, 0.0)


def test_density_coverage_sanity() -> None:
    rng = np.random.default_rng(18)
    density, coverage = density_coverage(rng.standard_normal((1000, 8)), rng.standard_normal((1000, 8)), k=5)
    assert 0.8 < density < 1.2 and coverage > 0.85
    real, fake = mixture(rng, 2000, [0, 1, 2, 3]), mixture(rng, 1000, [0, 1])
    density, coverage = density_coverage(real, fake, k=5)
    assert density > 0.6 and 0.4 < coverage < 0.6
    assert density_coverage(real, fake + 100.0, k=5) == (0.0, 0.0)


def test_precision_recall_matches_torch_fidelity() -> None:
    metric_prc = pytest.importorskip("torch_fidelity.metric_prc")
    rng = np.random.default_rng(19)
    real, fake = rng.standard_normal((400, 16)), rng.standard_normal((300, 16)) * 1.2 + 0.2
    ref = metric_prc.prc_features_to_metric(
        torch.from_numpy(fake), torch.from_numpy(real), prc_neighborhood=3, prc_batch_size=10000,
        save_cpu_ram=False, verbose=False,
    )  # fmt: skip
    assert precision_recall(real, fake, k=3) == pytest.approx((ref["precision"], ref["recall"]), abs=1e-6)


def test_manifold_metrics_need_more_samples_than_k() -> None:
    with pytest.raises(GanforgeError, match="at least 4"):
        precision_recall(np.zeros((3, 2)), np.zeros((10, 2)), k=3)
    with pytest.raises(GanforgeError, match="k >= 1"):
        density_coverage(np.zeros((10, 2)), np.zeros((10, 2)), k=0)
