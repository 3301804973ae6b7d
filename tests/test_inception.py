"""The FID Inception-v3: weight layout, parity with pytorch-fid / torch-fidelity on random weights, preprocessing,
and the weight loader (never downloads: the download is monkeypatched to fail)."""

from __future__ import annotations

import math
import urllib.error
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ganforge.errors import GanforgeError
from ganforge.metrics import FIDInceptionV3, find_fid_weights, load_fid_inception
from ganforge.metrics import inception as inception_module
from ganforge.metrics.inception import NUM_PARAMETERS, PYTORCH_FID_URL, WEIGHT_FILE_NAMES, load_state_into, tf1_resize

# One torch thread: with another process on the two cores, a 2-image forward took 3.9 s on 2 threads, 0.26 s on 1.
pytestmark = pytest.mark.usefixtures("single_thread")


def randomize(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """He-normal convolutions and random batch-norm statistics: activations stay O(1) through the 94 layers."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                module.weight.normal_(0, math.sqrt(2 / module.weight[0].numel()), generator=gen)
            elif isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5, generator=gen)
                module.bias.uniform_(-0.2, 0.2, generator=gen)
                module.running_mean.uniform_(-0.2, 0.2, generator=gen)
                module.running_var.uniform_(0.5, 2.0, generator=gen)
            elif isinstance(module, torch.nn.Linear):
                module.weight.normal_(0, 0.05, generator=gen)
                module.bias.normal_(0, 0.5, generator=gen)
    return model.eval()


@pytest.fixture(scope="module")
def random_state() -> dict[str, torch.Tensor]:
    return randomize(FIDInceptionV3()).state_dict()


@pytest.fixture()
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Empty weight folders and a download that fails like an offline machine; returns the URLs tried."""
    tried: list[str] = []

    def no_network(url: str, *args: object, **kwargs: object) -> None:
        tried.append(url)
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setenv("GANFORGE_WEIGHTS", str(tmp_path / "ganforge-weights"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tried


def pytorch_fid_reference(monkeypatch: pytest.MonkeyPatch, state: dict[str, torch.Tensor]):
    """pytorch-fid's own FID model (use_fid_inception=True), its weight download replaced by ``state``."""
    pfi = pytest.importorskip("pytorch_fid.inception")
    monkeypatch.setattr(pfi, "load_state_dict_from_url", lambda *args, **kwargs: state)
    return pfi


def random_uint8_images(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def assert_close_relative(ours: torch.Tensor, theirs: torch.Tensor, tol: float = 1e-4) -> None:
    scale = theirs.abs().max().item()
    assert scale > 1e-2, "degenerate activations make the comparison meaningless"
    assert (ours - theirs).abs().max().item() <= tol * max(scale, 1.0)


# ---------------------------------------------------------------- layout


def test_layout_and_parameter_count_match_pytorch_fid(monkeypatch, random_state) -> None:
    pfi = pytorch_fid_reference(monkeypatch, random_state)
    theirs = pfi.fid_inception_v3()  # strict load of our state dict into pytorch-fid's network
    assert sum(p.numel() for p in theirs.parameters()) == NUM_PARAMETERS == 23_850_960
    ours = FIDInceptionV3()
    assert sum(p.numel() for p in ours.parameters()) == NUM_PARAMETERS
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in theirs.state_dict().items()}
    ours.load_state_dict(theirs.state_dict(), strict=True)


def test_missing_batch_norm_counters_are_tolerated(random_state) -> None:
    state = {k: v for k, v in random_state.items() if not k.endswith("num_batches_tracked")}
    model = FIDInceptionV3()
    load_state_into(model, state)
    assert torch.equal(model.fc.weight, random_state["fc.weight"])


# ---------------------------------------------------------------- parity on the same random weights


def test_features_match_pytorch_fid(monkeypatch, random_state) -> None:
    pfi = pytorch_fid_reference(monkeypatch, random_state)
    theirs = pfi.InceptionV3([pfi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]], use_fid_inception=True).eval()
    ours = FIDInceptionV3(protocol="pytorch-fid")
    ours.load_state_dict(random_state)
    ours.eval()
    images = random_uint8_images((2, 3, 37, 45), seed=1)  # non-square, upsampled
    with torch.no_grad():
        expected = theirs(images.float() / 255.0)[0].flatten(1)  # pytorch-fid's input range is [0, 1]
        got = ours(images.float() / 127.5 - 1.0)  # ours is [-1, 1]
    assert_close_relative(got["pool"], expected)
    assert_close_relative(got["logits"], expected @ random_state["fc.weight"].T + random_state["fc.bias"])


def test_features_match_torch_fidelity(tmp_path, random_state) -> None:
    fidelity = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")
    path = tmp_path / "weights.pth"
    torch.save(random_state, path)
    theirs = fidelity.FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048", "logits_unbiased", "logits"], feature_extractor_weights_path=str(path)
    )
    ours = load_fid_inception(path)  # default protocol: tensorflow
    images = random_uint8_images((2, 3, 32, 32), seed=2)
    with torch.no_grad():
        pool, unbiased, logits = theirs(images)  # torch-fidelity takes uint8
        got = ours(images.float() / 127.5 - 1.0)
    assert_close_relative(got["pool"], pool)
    assert_close_relative(got["logits_unbiased"], unbiased)
    assert_close_relative(got["logits"], logits)


@pytest.mark.parametrize("size", [(32, 32), (28, 40), (320, 310), (299, 299), (1, 5)])
def test_tf1_resize_matches_torch_fidelity(size: tuple[int, int]) -> None:
    compat = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
    pixels = random_uint8_images((2, 3, *size), seed=3).float()
    expected = compat.interpolate_bilinear_2d_like_tensorflow1x(pixels, size=(299, 299), align_corners=False)
    assert torch.equal(tf1_resize(pixels), expected)  # bit-exact (torch-fidelity's is bit-exact with TF on CPU)


# ---------------------------------------------------------------- preprocessing


def test_tf1_resize_is_the_identity_at_299_and_samples_without_half_pixel_offset() -> None:
    pixels = random_uint8_images((1, 3, 299, 299), seed=4).float()
    assert torch.equal(tf1_resize(pixels), pixels)
    ramp = torch.arange(10.0).view(1, 1, 1, 10).expand(1, 1, 2, 10)
    out = tf1_resize(ramp, size=20)  # output pixel i samples input coordinate i / 2, the last one clamps
    torch.testing.assert_close(out[0, 0, 0], torch.cat([torch.arange(19.0) / 2, torch.tensor([9.0])]))


def test_preprocess_protocols_ranges_and_grayscale() -> None:
    model = FIDInceptionV3()
    images = random_uint8_images((2, 1, 16, 16), seed=5)
    floats = images.float() / 127.5 - 1.0
    tf_input = model.preprocess(floats)
    assert tf_input.shape == (2, 3, 299, 299)
    assert torch.equal(tf_input, model.preprocess(images))  # uint8 and [-1, 1] floats are the same pixels
    assert torch.equal(tf_input, model.preprocess(floats.repeat(1, 3, 1, 1)))  # grayscale is repeated
    assert torch.equal(tf_input, model.preprocess(floats + 0.3 / 127.5))  # quantised to 8 bits
    black_and_white = torch.full((1, 3, 4, 4), -1.0)
    black_and_white[..., 2:] = 1.0
    extremes = model.preprocess(black_and_white)
    assert extremes.min().item() == -1.0 and extremes.max().item() == 127 / 128  # (v - 128) / 128: 255 -> 127/128
    torch_fid = FIDInceptionV3(protocol="pytorch-fid")
    expected = 2 * F.interpolate(images.float().repeat(1, 3, 1, 1) / 255, size=(299, 299), mode="bilinear") - 1
    torch.testing.assert_close(torch_fid.preprocess(floats), expected)
    assert not torch.equal(FIDInceptionV3(quantize=False).preprocess(floats + 0.3 / 127.5), tf_input)


def test_bad_inputs_and_protocols_are_user_errors() -> None:
    model = FIDInceptionV3()
    with pytest.raises(GanforgeError, match=r"\[B, 1 or 3, H, W\]"):
        model.preprocess(torch.zeros(3, 8, 8))
    with pytest.raises(GanforgeError, match=r"\[B, 1 or 3, H, W\]"):
        model.preprocess(torch.zeros(1, 4, 8, 8))
    with pytest.raises(GanforgeError, match="dtype"):
        model.preprocess(torch.zeros(1, 3, 8, 8, dtype=torch.int32))
    with pytest.raises(GanforgeError, match="Known: tensorflow, pytorch-fid"):
        FIDInceptionV3(protocol="pytorch_fid")


# ---------------------------------------------------------------- loader


def test_offline_without_weights_raises_a_user_error(offline) -> None:
    assert find_fid_weights() is None
    with pytest.raises(GanforgeError, match="--weights PATH") as info:
        load_fid_inception(None)
    assert PYTORCH_FID_URL in str(info.value) and "--extractor digits" in str(info.value)
    assert len(offline) == 2  # pytorch-fid's release, then torch-fidelity's


@pytest.mark.parametrize("place", ["hub", "env", "env-file", "home"])
def test_weights_are_found_without_downloading(monkeypatch, offline, tmp_path, random_state, place: str) -> None:
    folder = {
        "hub": tmp_path / "hub" / "checkpoints",
        "env": tmp_path / "ganforge-weights",
        "env-file": tmp_path / "elsewhere",
        "home": tmp_path / "home" / ".cache" / "ganforge" / "weights",
    }[place]
    folder.mkdir(parents=True)
    name = {"env": WEIGHT_FILE_NAMES[1], "env-file": "my-copy.pth"}.get(place, WEIGHT_FILE_NAMES[0])
    if place == "env-file":
        monkeypatch.setenv("GANFORGE_WEIGHTS", str(folder / name))
    # The old (non-zip) serialization, without BatchNorm counters: how a 2019 weight file may look.
    state = {k: v for k, v in random_state.items() if not k.endswith("num_batches_tracked")}
    torch.save(state, folder / name, _use_new_zipfile_serialization=False)
    assert find_fid_weights() == folder / name
    model = load_fid_inception()
    assert offline == []
    assert torch.equal(model.fc.bias, random_state["fc.bias"])
    assert not model.training and not any(p.requires_grad for p in model.parameters())


def test_download_lands_in_the_model(monkeypatch, offline, random_state) -> None:
    monkeypatch.setattr(inception_module.torch.hub, "load_state_dict_from_url", lambda *a, **k: random_state)
    model = load_fid_inception(protocol="pytorch-fid")
    assert model.protocol == "pytorch-fid"
    assert torch.equal(model.Mixed_7c.branch_pool.conv.weight, random_state["Mixed_7c.branch_pool.conv.weight"])


def test_missing_or_foreign_weight_files_are_user_errors(tmp_path) -> None:
    with pytest.raises(GanforgeError, match="does not exist"):
        load_fid_inception(tmp_path / "nope.pth")
    foreign = tmp_path / "foreign.pth"
    torch.save({"conv.weight": torch.zeros(3)}, foreign)
    with pytest.raises(GanforgeError, match="not the FID Inception's"):
        load_fid_inception(foreign)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(GanforgeError, match="could not read"):
        load_fid_inception(garbage)


def fid_ours_and_torch_fidelity(weights: Path) -> tuple[float, float]:
    """FID of two small uint8 image sets by ganforge's pipeline and by torch-fidelity's, with one weights file."""
    fidelity = pytest.importorskip("torch_fidelity")
    from ganforge.metrics.evaluate import FeatureSet, compute_metrics
    from ganforge.metrics.extractors import build_extractor

    gen = torch.Generator().manual_seed(0)
    real = (torch.rand(40, 3, 32, 32, generator=gen) * 255).round().to(torch.uint8)
    fake = (real.float() * 0.7).round().to(torch.uint8)

    class Images(torch.utils.data.Dataset):
        def __init__(self, images: torch.Tensor) -> None:
            self.images = images

        def __len__(self) -> int:
            return len(self.images)

        def __getitem__(self, i: int) -> torch.Tensor:
            return self.images[i]

    theirs = fidelity.calculate_metrics(input1=Images(fake), input2=Images(real), fid=True, verbose=False,
                                        feature_extractor_weights_path=str(weights), cuda=False, batch_size=20)
    extractor = build_extractor("inception", str(weights))
    real_set, fake_set = (FeatureSet(*extractor.extract(x.float() / 127.5 - 1)) for x in (real, fake))
    return compute_metrics(real_set, fake_set, ["fid"])["fid"], theirs["frechet_inception_distance"]


def test_fid_pipeline_agrees_with_torch_fidelity_on_shared_weights(tmp_path, random_state) -> None:
    """Preprocessing, resize, features and the Frechet distance, end to end, with one (random) weights file."""
    path = tmp_path / "weights-inception-2015-12-05-6726825d.pth"
    torch.save(random_state, path)
    ours, theirs = fid_ours_and_torch_fidelity(path)
    assert ours > 0 and ours == pytest.approx(theirs, rel=1e-4)


def test_fid_with_the_real_weights_agrees_with_torch_fidelity() -> None:
    """Only where the real weights are on the machine (never downloaded here)."""
    weights = find_fid_weights()
    if weights is None:
        pytest.skip("the FID Inception weights are not on this machine (offline, nothing downloads in tests); "
                    "put pt_inception-2015-12-05-6726825d.pth in $GANFORGE_WEIGHTS to run this check")
    ours, theirs = fid_ours_and_torch_fidelity(weights)
    assert ours == pytest.approx(theirs, rel=1e-4)
