"""Lab colorization: the torch Lab conversion, the hue-error metric, training in Lab and translating any size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from ganforge import GanforgeError, load_config, train
from ganforge.families.base import SampleRequest
from ganforge.families.translation import FAMILY
from ganforge.families.translation.color import compose_lab, hue_error, lab_to_rgb, rgb_to_lab, target_ab
from ganforge.families.translation.data import build_pair_dataset, split_pair
from ganforge.families.translation.family import build_generators
from ganforge.families.translation.nets import LabColorizer
from ganforge.families.translation.photos import (
    COLORIZE_HELD_OUT,
    COLORIZE_TRAIN,
    INSTALLED_PHOTO_COUNT,
    PHOTO_SOURCES,
    PhotoSource,
    installed_photo_files,
)
from ganforge.runs import load_run
from ganforge.training.checkpoint import seed_everything

pytestmark = pytest.mark.usefixtures("single_thread")

TINY_LAB = ["model.color_space=lab", "data.size=16", "data.batch_size=8", "model.g_width=8", "model.d_width=8",
            "model.unet_depth=4", "model.color_scale=1", "loss.adv_weight=1", "train.log_every=10",
            "train.sample_every=40", "train.checkpoint_every=40", "train.device=cpu", "optim.g_lr=1e-3"]


def lab_config(*extra: str):
    return load_config("pix2pix-colorize", overrides=[*TINY_LAB, *extra])


def chw(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array).permute(2, 0, 1)


# --- the conversion --------------------------------------------------------------------------------


def test_lab_conversion_matches_skimage_both_ways():
    color = pytest.importorskip("skimage.color")
    rgb = np.random.default_rng(0).random((9, 11, 3))
    rgb[0, :4] = [[0, 0, 0], [1, 1, 1], [1, 0, 0], [0.01, 0.02, 0.0]]  # black, white, a primary, the linear toe
    lab = color.rgb2lab(rgb)
    # skimage's D65 white differs from the sRGB matrix's own white by 1e-4: a, b differ by up to 0.005
    assert np.abs(rgb_to_lab(chw(rgb)).permute(1, 2, 0).numpy() - lab).max() < 0.01
    assert np.abs(lab_to_rgb(chw(lab)).permute(1, 2, 0).numpy() - color.lab2rgb(lab)).max() < 1e-3
    batch = chw(rgb).unsqueeze(0).repeat(2, 1, 1, 1).float()  # batched, float32
    assert torch.allclose(lab_to_rgb(rgb_to_lab(batch)), batch, atol=1e-4)


def test_gray_pixels_have_no_ab_and_ab_zero_gives_the_gray_back():
    gray = torch.linspace(0, 1, 50).view(1, 1, 5, 10)
    lab = rgb_to_lab(gray.expand(1, 3, -1, -1))
    assert lab[:, 1:].abs().max() < 1e-4
    assert lab[:, 0].min() >= 0 and lab[:, 0].max() <= 100 + 1e-3
    unit = gray * 2 - 1
    assert target_ab(unit.expand(1, 3, -1, -1)).abs().max() < 1e-5
    assert torch.allclose(compose_lab(unit, torch.zeros(1, 2, 5, 10)), unit.expand(1, 3, -1, -1), atol=1e-4)


def test_composition_is_differentiable_in_ab():
    ab = (torch.randn(2, 2, 8, 8) * 0.2).requires_grad_()
    compose_lab(torch.rand(2, 1, 8, 8) * 2 - 1, ab).sum().backward()
    assert ab.grad is not None and torch.isfinite(ab.grad).all() and ab.grad.abs().sum() > 0


# --- the hue-error metric --------------------------------------------------------------------------


def from_lab(*pixels: tuple[float, float, float]) -> torch.Tensor:
    """RGB [3, 1, N] in [0, 1] from Lab pixels (all inside the sRGB gamut)."""
    return lab_to_rgb(torch.tensor(pixels, dtype=torch.float64).T.unsqueeze(1))


def test_hue_error_on_hand_made_images():
    red, yellow, green = (50, 20, 0), (50, 0, 20), (50, -20, 0)  # hue angles 0, 90 and 180 degrees
    assert hue_error(from_lab(red, yellow), from_lab(red, yellow)) == pytest.approx(0, abs=0.1)
    assert hue_error(from_lab(yellow, yellow), from_lab(red, red)) == pytest.approx(90, abs=0.5)
    assert hue_error(from_lab(green), from_lab(red)) == pytest.approx(180, abs=0.5)
    # the truth's chroma weighs: errors 90 (chroma 20) and 0 (chroma 60) -> 90 * 20 / 80
    assert hue_error(from_lab((50, 0, 20), (50, 60, 0)), from_lab((50, 20, 0), (50, 60, 0))) == pytest.approx(
        22.5, abs=0.5)
    # gray truth pixels do not count; a gray prediction counts as a random hue (90)
    assert hue_error(from_lab(green, (50, 0, 0)), from_lab(red, (50, 0, 0))) == pytest.approx(180, abs=0.5)
    assert hue_error(from_lab((50, 0, 0)), from_lab(red)) == pytest.approx(90)
    assert hue_error(from_lab(red), from_lab((60, 0, 0))) == 0.0
    as_uint8 = (from_lab(green, red) * 255).round().to(torch.uint8)  # uint8 images are read as 0..255
    assert hue_error(as_uint8, as_uint8) == pytest.approx(0, abs=0.1)
    with pytest.raises(ValueError, match="RGB images of one shape"):
        hue_error(from_lab(red), from_lab(red, red))


# --- training and using a Lab run ------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory):
    return train(lab_config("train.steps=40"), out=tmp_path_factory.mktemp("lab") / "run", progress=False)


def test_the_held_out_photos_stay_out_of_training():
    assert not set(COLORIZE_TRAIN) & set(COLORIZE_HELD_OUT)
    assert "cat" not in COLORIZE_TRAIN  # scikit-image's cat is the held-out chelsea


def test_installed_photos_are_found_by_name_under_their_folders_in_list_order(tmp_path):
    for relative in ("nature/b.jpg", "a.jpg", "other/a.jpg", "not-listed.jpg", "second/c.png"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((300, 400, 3), np.uint8)).save(tmp_path / relative)
    sources = (PhotoSource("one", tmp_path, ("b.jpg", "missing.jpg", "a.jpg")),
               PhotoSource("two", tmp_path / "second", ("c.png",)), PhotoSource("gone", tmp_path / "nope", ("d.jpg",)))
    found = installed_photo_files(sources)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["nature/b.jpg", "a.jpg", "second/c.png"]
    held_out = {Path(name.split(":")[-1]).stem for name in COLORIZE_HELD_OUT}
    assert not held_out & {Path(name).stem for source in PHOTO_SOURCES for name in source.names}
    assert sum(len(set(s.names)) for s in PHOTO_SOURCES) == INSTALLED_PHOTO_COUNT  # no name twice in a source


def test_a_lab_generator_predicts_ab_and_its_training_lowers_the_ab_error(lab_run):
    config = load_run(lab_run).config
    assert config.model.color_space == "lab" and config.model.b_channels == 3
    data = build_pair_dataset("colorize-photos", size=16)
    gray, color = split_pair(data.images[:64].float() / 127.5 - 1, data.pair_channels)
    seed_everything(config.train.seed)
    untrained = build_generators(config)["AtoB"].eval()
    trained = load_run(lab_run).model.network("AtoB")
    assert isinstance(trained, LabColorizer) and trained.in_channels == 1 and trained.out_channels == 3
    distance = {"l1": F.l1_loss, "l2": F.mse_loss}[config.loss.recon]  # the term the run was trained on
    with torch.no_grad():
        before = distance(untrained.predict_ab(gray), target_ab(color)).item()
        after = distance(trained.predict_ab(gray), target_ab(color)).item()
        rgb = trained(gray)
    # a, b are hard to guess from gray: the untrained net (a, b about 0) is where 40 tiny steps start from
    assert after < 0.99 * before, (before, after)
    assert rgb.shape == (64, 3, 16, 16) and rgb.min() >= -1 and rgb.max() <= 1
    assert (lab_run / "samples" / "latest.png").is_file()


def test_translating_an_odd_sized_photo_returns_its_size_in_color(lab_run, tmp_path):
    photo = tmp_path / "in" / "odd.png"
    photo.parent.mkdir()
    Image.fromarray((np.random.default_rng(0).random((37, 51)) * 255).astype("uint8")).save(photo)
    loaded = load_run(lab_run)
    translated = loaded.family.sample(loaded.model, SampleRequest(input=photo))
    loaded.family.write(translated, tmp_path / "out")
    with Image.open(tmp_path / "out" / "odd.png") as image:
        assert image.size == (51, 37) and image.mode == "RGB"


def test_lab_needs_gray_to_color_data_and_cyclegan_refuses_it(tmp_path):
    data = build_pair_dataset("digit-styles", size=16)
    with pytest.raises(GanforgeError, match="color_space=rgb"):
        FAMILY.fit_config(lab_config(), data)
    with pytest.raises(GanforgeError, match="color_space"):
        load_config("cyclegan", overrides=["model.color_space=lab"])


@pytest.mark.parametrize("recon, distance", [("l1", F.l1_loss), ("l2", F.mse_loss)])
def test_the_reconstruction_term_is_the_one_loss_recon_names(recon, distance):
    data = build_pair_dataset("colorize-photos", size=16)
    config = FAMILY.fit_config(lab_config(f"loss.recon={recon}", "loss.adv_weight=0"), data)
    seed_everything(0)
    recipe = FAMILY.build_recipe(config, data, torch.device("cpu"))
    batch = data.images[:8].float() / 127.5 - 1
    gray, color = split_pair(batch, data.pair_channels)
    recipe.generator.train()  # as in the step: batch statistics, and the same dropout masks from the same seed
    torch.manual_seed(1)
    with torch.no_grad():
        prediction = recipe.generator.predict_ab(gray)
    expected = distance(prediction, target_ab(color)).item()
    other = (F.mse_loss if recon == "l1" else F.l1_loss)(prediction, target_ab(color)).item()
    torch.manual_seed(1)
    scalars = recipe.train_step([(batch, torch.zeros(8, dtype=torch.int64))])
    assert set(scalars) == {recon}
    assert scalars[recon].item() == pytest.approx(expected, rel=1e-5)
    assert abs(other - expected) > 0.1 * expected  # the two terms are told apart on this batch


def test_loss_recon_accepts_only_l1_and_l2():
    assert lab_config("loss.recon=l2").loss.recon == "l2"
    with pytest.raises(GanforgeError, match="recon"):
        lab_config("loss.recon=huber")


def test_color_scale_predicts_ab_at_a_lower_resolution_and_keeps_the_full_resolution_lightness():
    config = lab_config("model.color_scale=4").with_section("model", a_channels=1, b_channels=3)
    colorizer = build_generators(config)["AtoB"].eval()
    with torch.no_grad():  # an untrained net predicts a, b of about 0: shake it to get colors
        for parameter in colorizer.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    assert isinstance(colorizer, LabColorizer) and colorizer.required_multiple == 4 * 2**config.model.unet_depth
    seen = []
    colorizer.net.register_forward_hook(lambda module, args, out: seen.append(tuple(args[0].shape)))
    gray = torch.rand(2, 1, 64, 128) * 1.6 - 0.8
    checker = (torch.arange(64).view(-1, 1) + torch.arange(128)) % 2 * 0.2 - 0.1  # mean 0 in every 4x4 block
    with torch.no_grad():
        ab, detailed_ab = colorizer.predict_ab(gray), colorizer.predict_ab(gray + checker)
        rgb, detailed_rgb = colorizer(gray), colorizer(gray + checker)
    assert seen[0] == (2, 1, 16, 32)  # the net sees the input shrunk 4 times
    assert ab.shape == (2, 2, 64, 128) and rgb.shape == (2, 3, 64, 128)
    assert ab.abs().max() > 0.01
    assert torch.allclose(ab, detailed_ab, atol=1e-6)  # detail finer than 4 pixels does not change the color...
    assert (rgb - detailed_rgb).abs().mean() > 0.05  # ...but it stays in the output (the input's L)


def test_color_scale_needs_lab_and_crops_it_can_shrink(tmp_path):
    data = build_pair_dataset("colorize-photos", size=16)
    with pytest.raises(GanforgeError, match="color_scale"):
        FAMILY.fit_config(lab_config("model.color_space=rgb", "model.color_scale=2"), data)
    with pytest.raises(GanforgeError, match="multiple of 32"):  # 16-pixel crops cannot feed a depth-4 U-Net at 1/2
        FAMILY.fit_config(lab_config("model.color_scale=2"), data)
    run = train(lab_config("model.color_scale=2", "data.size=32", "train.steps=4", "train.sample_every=4",
                           "train.checkpoint_every=4"), out=tmp_path / "run", progress=False)
    photo = tmp_path / "odd.png"
    Image.fromarray((np.random.default_rng(0).random((37, 51)) * 255).astype("uint8")).save(photo)
    loaded = load_run(run)
    translated = loaded.family.sample(loaded.model, SampleRequest(input=photo))
    assert tuple(translated.images[0].shape) == (3, 37, 51)


def test_color_gain_mutes_the_output_colors_and_zero_gives_the_gray_back():
    gray = torch.rand(2, 1, 32, 48) * 1.6 - 0.8
    outputs, predictions = {}, {}
    for gain in (1.0, 0.5, 0.0):
        config = lab_config(f"model.color_gain={gain}", "model.color_guide=0")
        config = config.with_section("model", a_channels=1, b_channels=3)
        seed_everything(0)
        colorizer = build_generators(config)["AtoB"].eval()
        with torch.no_grad():
            for parameter in colorizer.parameters():  # the same shaken weights for every gain
                parameter.add_(torch.randn_like(parameter) * 0.1)
            predictions[gain], outputs[gain] = colorizer.predict_ab(gray), colorizer(gray)
    assert torch.equal(predictions[1.0], predictions[0.5])  # training (predict_ab) does not see the gain
    assert torch.allclose(outputs[0.5], compose_lab(gray, 0.5 * predictions[1.0]), atol=1e-5)
    assert torch.allclose(outputs[0.0], gray.expand(-1, 3, -1, -1), atol=1e-4)
    chroma = {g: rgb_to_lab((outputs[g] + 1) / 2)[:, 1:].norm(dim=1).mean().item() for g in (1.0, 0.5)}
    assert chroma[0.5] < 0.75 * chroma[1.0]
    with pytest.raises(GanforgeError, match="color_gain"):
        FAMILY.fit_config(lab_config("model.color_space=rgb", "model.color_gain=0.5"),
                          build_pair_dataset("colorize-photos", size=16))
