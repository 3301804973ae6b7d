"""Evaluation with the committed digits-v1 network: metrics move the right way, protocol and cache, CLI."""

from __future__ import annotations

import json

import pytest
import torch
import torchvision.transforms.v2.functional as TF
from cli_helpers import assert_one_line_error, run_main

import ganforge.metrics.evaluate as evaluate
from ganforge.data import build_dataset
from ganforge.metrics import frechet_distance, kernel_inception_distance, precision_recall
from ganforge.metrics.class_shares import class_coverage, class_shares
from ganforge.metrics.digits_net import DIGITS_V1_SHA256, digits_weights_path, file_sha256
from ganforge.metrics.extractors import FeatureExtractor, build_extractor, default_extractor_name

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GANFORGE_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def digits():
    """The 5,000 digits in a random order (the data set is stored sorted by class)."""
    data = build_dataset("digits")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    return data.images[order].float() / 127.5 - 1, data.labels[order]


@pytest.fixture(scope="module")
def extractor():
    return build_extractor("digits")


@pytest.fixture(scope="module")
def real_half(digits, extractor):
    images, labels = digits
    features, logits = extractor.extract(images[:2500])
    return features, labels[:2500]


def test_the_committed_network_is_digits_v1_and_reads_digits(digits, extractor):
    assert file_sha256(digits_weights_path()) == DIGITS_V1_SHA256
    images, labels = digits
    _, logits = extractor.extract(images)
    assert (logits.argmax(1) == labels).float().mean() > 0.98
    assert extractor.name == "digits-v1" and default_extractor_name((1, 28, 28)) == "digits"
    assert default_extractor_name((3, 32, 32)) == "inception"


def test_real_versus_real_is_near_the_floor_and_noise_is_far(digits, extractor, real_half):
    images, _ = digits
    other_half, _ = extractor.extract(images[2500:])
    noise, _ = extractor.extract(torch.rand(2500, 1, 28, 28) * 2 - 1)
    floor = frechet_distance(real_half[0], other_half)
    assert floor < 0.05 * frechet_distance(real_half[0], noise)


def test_fid_and_kid_grow_steadily_with_noise_and_blur(digits, extractor, real_half):
    images, _ = digits
    other = images[2500:4000]
    generator = torch.Generator().manual_seed(0)
    noisy = [(other + s * torch.randn(other.shape, generator=generator)).clamp(-1, 1) for s in (0.0, 0.2, 0.4, 0.8)]
    blurred = [TF.gaussian_blur(other, [7, 7], [s, s]) for s in (0.3, 0.8, 1.3, 2.0)]
    for series in (noisy, blurred):
        feats = [extractor.extract(x)[0] for x in series]
        fids = [frechet_distance(real_half[0], f) for f in feats]
        kids = [kernel_inception_distance(real_half[0], f, subsets=20, subset_size=500)[0] for f in feats]
        assert fids == sorted(fids) and fids[-1] > 3 * fids[0], fids
        assert kids == sorted(kids) and kids[-1] > 3 * abs(kids[0]), kids


def test_dropping_classes_lowers_recall_and_raises_fid(digits, extractor, real_half):
    images, labels = digits
    others, other_labels = images[2500:], labels[2500:]
    features, _ = extractor.extract(others)
    half_classes = features[other_labels < 5]
    all_classes = features[: len(half_classes)]
    _, recall_all = precision_recall(real_half[0], all_classes)
    _, recall_half = precision_recall(real_half[0], half_classes)
    assert recall_half < 0.7 * recall_all
    assert frechet_distance(real_half[0], half_classes) > 5 * frechet_distance(real_half[0], all_classes)


def test_class_coverage_sees_dropped_and_favoured_digits(digits, extractor):
    images, labels = digits
    _, real_logits = extractor.extract(images[:2500])
    others, other_labels = images[2500:], labels[2500:]
    _, balanced = extractor.extract(others)
    even = class_coverage(real_logits, balanced)
    assert 0.07 < even["class_share_min"] <= even["class_share_max"] < 0.13 and even["class_kl"] < 0.01
    no_fours = others[other_labels != 4]
    extra_nines = torch.cat([no_fours, others[other_labels == 9]])
    skewed = class_coverage(real_logits, extractor.extract(extra_nines)[1])
    assert skewed["class_share_min"] < 0.01 and skewed["class_share_max"] > 0.15
    assert skewed["class_kl"] > 20 * even["class_kl"]
    assert class_shares(torch.eye(3)[[0, 0, 2, 2]]).tolist() == [0.5, 0.0, 0.5]


def test_reference_features_are_cached_per_protocol(extractor, monkeypatch, tmp_path):
    first, info = evaluate.reference_features("digits8", extractor, 300)
    assert info == {"dataset": "digits8", "split": "train", "n": 300, "of": 1797, "image_shape": "1x8x8",
                    "subset": "random subset, seed 0"}
    assert len(list((tmp_path / "cache").glob("digits8-train-digits-v1-1x8x8-n300.pt"))) == 1

    def no_extraction(*args, **kwargs):
        raise AssertionError("the second evaluation recomputed the reference features")

    monkeypatch.setattr(extractor, "extract", no_extraction)
    second, _ = evaluate.reference_features("digits8", extractor, 300)
    assert torch.equal(first.features, second.features)


def test_a_custom_module_is_an_extractor():
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 5))
    custom = FeatureExtractor.from_module(module, name="mine")
    features, logits = custom.extract(torch.rand(7, 1, 8, 8))
    assert features.shape == (7, 5) and logits is None and features.dtype == torch.float64


def test_unknown_names_are_user_errors():
    from ganforge.errors import GanforgeError

    with pytest.raises(GanforgeError, match="digits"):
        build_extractor("lenet")
    with pytest.raises(GanforgeError, match="fid"):
        evaluate.parse_metrics("fid,fidd")


# --- the command -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tiny_config):
    from ganforge.runs import train

    config = tiny_config("data.name=digits", "data.size=28", "train.steps=4")
    return train(config, out=tmp_path_factory.mktemp("eval") / "run", progress=False)


def test_eval_of_a_run_prints_metrics_with_their_protocol(tiny_run, monkeypatch, capsys):
    result = run_main(monkeypatch, capsys, ["eval", str(tiny_run), "--n", "300", "--metrics", "fid,kid,is,pr,classes",
                                            "--json", "--device", "cpu"])
    assert result.returncode in (0, None), result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"fid", "kid", "is", "precision", "recall", "class_share_min", "class_share_max",
                           "class_kl", "protocol"}
    assert 0 <= report["class_share_min"] <= 0.1 <= report["class_share_max"] <= 1
    assert report["fid"] > 0 and report["kid"]["std"] >= 0
    protocol = report["protocol"]
    assert protocol["extractor"]["name"] == "digits-v1" and "resize" in protocol["extractor"]
    assert protocol["real"]["dataset"] == "digits" and protocol["real"]["n"] == 300
    assert protocol["fake"]["n"] == 300 and "EMA generator, seed 0" in protocol["fake"]["source"]


def test_eval_of_an_image_folder(tmp_path, monkeypatch, capsys, digits):
    from ganforge.viz import save_images

    save_images(digits[0][:40], tmp_path / "imgs")
    result = run_main(monkeypatch, capsys, ["eval", str(tmp_path / "imgs"), "--against", "digits",
                                            "--metrics", "fid", "--n", "40"])
    assert result.returncode in (0, None), result.stderr
    assert "fid" in result.stdout and "protocol: extractor digits-v1" in result.stdout
    assert "40 images from folder" in result.stdout


def test_eval_errors_are_one_line(tmp_path, monkeypatch, capsys, tiny_run):
    assert_one_line_error(run_main(monkeypatch, capsys, ["eval", str(tmp_path / "nothing")]), "not found")
    assert_one_line_error(run_main(monkeypatch, capsys, ["eval", str(tiny_run), "--metrics", "fdi"]), "fid")
    assert_one_line_error(run_main(monkeypatch, capsys, ["eval", str(tiny_run), "--extractor", "vgg"]), "digits")


# --- during training -------------------------------------------------------------------------------


def test_evaluation_during_training_logs_and_keeps_the_best(tiny_config, tmp_path):
    from ganforge.runs import resume, train
    from ganforge.training.checkpoint import load_checkpoint

    overrides = ("data.name=digits", "data.size=28", "eval.every=2", "eval.n=200", "eval.metrics=[fid,pr]",
                 "eval.best=fid")
    run = train(tiny_config(*overrides), out=tmp_path / "run", steps=4, progress=False)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    evals = [r for r in records if "eval_fid" in r]
    assert [r["step"] for r in evals] == [2, 4]
    assert all({"eval_precision", "eval_recall"} <= set(r) for r in evals)
    best = min(evals, key=lambda r: r["eval_fid"])
    assert load_checkpoint(run / "checkpoints" / "best.pt")["step"] == best["step"]

    # evaluation draws no random numbers: the run trains exactly like one without it
    plain = train(tiny_config("data.name=digits", "data.size=28"), out=tmp_path / "plain", steps=4, progress=False)
    a = load_checkpoint(run / "checkpoints" / "last.pt")["recipe"]["generator"]
    b = load_checkpoint(plain / "checkpoints" / "last.pt")["recipe"]["generator"]
    assert all(torch.equal(a[k], b[k]) for k in a)

    resume(run, steps=6, progress=False)  # the best so far survives the resume
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if "eval_fid" in r] == [2, 4, 6]


def test_a_best_metric_that_is_not_computed_is_refused(tiny_config, tmp_path):
    from ganforge.errors import GanforgeError
    from ganforge.runs import train

    with pytest.raises(GanforgeError, match="eval.best=recall"):
        train(tiny_config("data.name=digits", "data.size=28", "eval.every=2", "eval.best=recall"),
              out=tmp_path / "run", progress=False)
