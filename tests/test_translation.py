"""pix2pix and CycleGAN: networks, pair data, training, exact resume, and `translate` on any image size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from train_helpers import SigintAt

from ganforge import GanforgeError, load_config, resume, train
from ganforge.families.base import SampleRequest
from ganforge.families.translation import FAMILY
from ganforge.families.translation.apply import translate_tensor
from ganforge.families.translation.data import COLORIZE_HELD_OUT, COLORIZE_TRAIN, split_pair, to_gray
from ganforge.families.translation.data import build_pair_dataset as build_dataset
from ganforge.families.translation.family import build_generators
from ganforge.families.translation.nets import PatchDiscriminator, ResNetTranslator, UNetGenerator
from ganforge.runs import load_run
from ganforge.training.checkpoint import load_checkpoint, seed_everything
from ganforge.training.trainer import TrainingInterrupted

pytestmark = pytest.mark.usefixtures("single_thread")


def load_translator(run, direction="AtoB"):
    return load_run(run).model.network(direction)


def translate_files(run, source, out, direction="AtoB"):
    loaded = load_run(run)
    translated = loaded.family.sample(loaded.model, SampleRequest(input=source, direction=direction))
    loaded.family.write(translated, out)
    return [out / name for name in translated.names]


def resolve_for_data(config, data):
    return FAMILY.fit_config(config, data)


def build_translation_generators(config):
    networks = build_generators(config)
    return networks["AtoB"], networks.get("BtoA")

# the paper's pix2pix, whatever the preset:
TINY_PIX2PIX = ["data.size=16", "data.batch_size=8", "model.g_width=8", "model.d_width=8", "model.unet_depth=4",
                "model.color_scale=1", "model.color_guide=0", "loss.adv_weight=1", "loss.recon=l1",
                "train.log_every=5", "train.sample_every=10", "train.checkpoint_every=10", "train.device=cpu"]
TINY_CYCLEGAN = ["data.size=16", "data.batch_size=8", "model.g_width=8", "model.d_width=8", "model.resnet_blocks=2",
                 "train.log_every=5", "train.sample_every=10", "train.checkpoint_every=10", "train.device=cpu"]


def pix2pix_config(*extra: str):
    return load_config("pix2pix-colorize", overrides=[*TINY_PIX2PIX, *extra])


def cyclegan_config(*extra: str):
    return load_config("cyclegan", overrides=[*TINY_CYCLEGAN, *extra])


# --- networks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(16, 16), (32, 48), (64, 16)])
def test_unet_keeps_any_multiple_size_and_range(shape):
    net = UNetGenerator(1, 3, 8, 4).eval()
    out = net(torch.randn(2, 1, *shape))
    assert out.shape == (2, 3, *shape) and out.abs().max() <= 1


@pytest.mark.parametrize("shape", [(28, 28), (12, 40)])
def test_resnet_translator_keeps_size_and_range(shape):
    net = ResNetTranslator(3, 1, 8, 2).eval()
    out = net(torch.randn(2, 3, *shape))
    assert out.shape == (2, 1, *shape) and out.abs().max() <= 1


def test_patch_discriminator_returns_a_map_of_patch_logits():
    logits = PatchDiscriminator(4, 8, 2, instance_norm=False)(torch.randn(2, 4, 32, 32))
    assert logits.dim() == 4 and logits.shape[:2] == (2, 1) and logits.shape[2] > 1


@pytest.mark.parametrize("size", [(37, 50), (5, 7), (64, 64), (100, 3)])
def test_translate_tensor_pads_and_crops_back_to_any_size(size):
    net = UNetGenerator(1, 3, 8, 4).eval()
    out = translate_tensor(net, torch.rand(1, 1, *size) * 2 - 1)
    assert out.shape == (1, 3, *size) and out.abs().max() <= 1


# --- data ------------------------------------------------------------------------------------------


def test_colorize_photos_pairs_gray_inputs_with_color_targets_and_holds_photos_out():
    data = build_dataset("colorize-photos", size=32)
    assert data.pair_channels == (1, 3) and data.image_shape == (4, 32, 32)
    gray, color = split_pair(data.images[:16], data.pair_channels)
    assert torch.equal(gray, to_gray(color))
    assert not set(COLORIZE_TRAIN) & set(COLORIZE_HELD_OUT)


def test_digit_styles_are_two_unpaired_styles_of_the_same_classes():
    data = build_dataset("digit-styles")
    assert data.pair_channels == (1, 1) and data.image_shape == (2, 28, 28) and data.num_classes == 10
    small_style, mnist_style = split_pair(data.images[:64].float(), data.pair_channels)
    # the 8x8 digits scaled up are blurrier than MNIST: fewer pixels near black or white
    def extreme(x):
        return ((x < 20) | (x > 235)).float().mean()

    assert extreme(small_style) < extreme(mnist_style)


def save_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_paired_folder_with_a_and_b_subfolders_and_side_by_side(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        save_png(tmp_path / "ab" / "A" / f"{i}.png", (rng.random((20, 20, 3)) * 255).astype("uint8"))
        save_png(tmp_path / "ab" / "B" / f"{i}.png", (rng.random((20, 20, 3)) * 255).astype("uint8"))
    save_png(tmp_path / "ab" / "B" / "extra.png", np.zeros((20, 20, 3), "uint8"))  # no partner: left out
    data = build_dataset(f"paired:{tmp_path / 'ab'}", size=16)
    assert len(data) == 3 and data.pair_channels == (3, 3)

    left, right = np.zeros((16, 16, 3), "uint8"), np.full((16, 16, 3), 255, "uint8")
    save_png(tmp_path / "sbs" / "x.png", np.concatenate([left, right], axis=1))
    pair = build_dataset(f"paired:{tmp_path / 'sbs'}", size=16)
    a, b = split_pair(pair.images, pair.pair_channels)
    assert a.max() == 0 and b.min() == 255


def test_translation_data_errors_are_one_line(tmp_path):
    (tmp_path / "A").mkdir()
    (tmp_path / "B").mkdir()
    save_png(tmp_path / "A" / "a.png", np.zeros((8, 8, 3), "uint8"))
    save_png(tmp_path / "B" / "b.png", np.zeros((8, 8, 3), "uint8"))
    with pytest.raises(GanforgeError, match="share no file names"):
        build_dataset(f"paired:{tmp_path}")
    with pytest.raises(GanforgeError, match="two folders separated by a comma"):
        build_dataset(f"unpaired:{tmp_path / 'A'}")
    with pytest.raises(GanforgeError, match="needs paired or two-domain data"):
        train(pix2pix_config("data.name=digits"), out=tmp_path / "digits", progress=False)
    with pytest.raises(GanforgeError, match="multiple of 16"):
        train(pix2pix_config("data.size=24"), out=tmp_path / "run", progress=False)


# --- training --------------------------------------------------------------------------------------


def test_pix2pix_steps_reduce_the_l1_distance_to_the_targets(tmp_path):
    """RGB pix2pix (the Lab mode, the preset's, is tested in test_translation_lab.py)."""
    cfg = pix2pix_config("model.color_space=rgb", "train.steps=60", "optim.g_lr=1e-3")
    data = build_dataset("colorize-photos", size=16)
    gray, color = split_pair(data.images[:64].float() / 127.5 - 1, data.pair_channels)
    resolved = resolve_for_data(cfg, data)
    seed_everything(cfg.train.seed)
    untrained, _ = build_translation_generators(resolved)
    run = train(cfg, out=tmp_path / "run", progress=False)
    trained = load_translator(run)
    with torch.no_grad():
        before = F.l1_loss(untrained.eval()(gray), color).item()
        after = F.l1_loss(trained(gray), color).item()
    assert after < 0.6 * before, (before, after)
    assert (run / "samples" / "latest.png").is_file()


def test_cyclegan_cycle_loss_of_a_trained_pair_is_below_an_untrained_one(tmp_path):
    cfg = cyclegan_config("train.steps=60")
    data = build_dataset("digit-styles", size=16)
    a, b = split_pair(data.images[:64].float() / 127.5 - 1, data.pair_channels)
    seed_everything(cfg.train.seed)
    g_ab, g_ba = build_translation_generators(resolve_for_data(cfg, data))
    run = train(cfg, out=tmp_path / "run", progress=False)
    t_ab, t_ba = load_translator(run, "AtoB"), load_translator(run, "BtoA")

    def cycle(forward, backward):
        with torch.no_grad():
            return (F.l1_loss(backward(forward(a)), a) + F.l1_loss(forward(backward(b)), b)).item()

    untrained, trained = cycle(g_ab.eval(), g_ba.eval()), cycle(t_ab, t_ba)
    assert trained < 0.7 * untrained, (untrained, trained)


@pytest.mark.parametrize("kind", ["pix2pix", "cyclegan"])
def test_a_killed_translation_run_resumes_exactly(kind, tmp_path):
    """Killed at step 10 of 20 (Ctrl-C), resumed to 20: the same weights, history pools and lr schedule.
    (CycleGAN's lr decay is a fraction of train.steps: resuming to another length changes the schedule.)"""
    cfg = pix2pix_config("train.steps=20") if kind == "pix2pix" else cyclegan_config("model.pool_size=4",
                                                                                    "train.steps=20")
    full = train(cfg, out=tmp_path / "full", progress=False)
    with pytest.raises(TrainingInterrupted):
        train(cfg, out=tmp_path / "half", progress=False, callbacks=[SigintAt(step=10)])
    half = resume(tmp_path / "half", progress=False)
    a = load_checkpoint(full / "checkpoints" / "last.pt")["recipe"]
    b = load_checkpoint(half / "checkpoints" / "last.pt")["recipe"]
    assert a.keys() == b.keys()
    for key in a:
        if key.endswith("optimizer") or key.endswith("scheduler") or key.startswith("pool"):
            continue
        for name, value in a[key].items():
            assert torch.equal(value, b[key][name]), (key, name)
    if kind == "cyclegan":
        assert torch.equal(a["pool_a"]["images"], b["pool_a"]["images"])
        assert a["g_scheduler"]["last_epoch"] == b["g_scheduler"]["last_epoch"] == 20


def test_translate_round_trips_a_non_square_image_to_its_own_size(tmp_path):
    run = train(cyclegan_config("train.steps=2"), out=tmp_path / "run", progress=False)
    photo = tmp_path / "in" / "photo.jpg"
    save_png(photo.with_suffix(".png"), (np.random.default_rng(0).random((37, 50, 3)) * 255).astype("uint8"))
    for direction in ("AtoB", "BtoA"):
        written = translate_files(run, photo.with_suffix(".png"), tmp_path / direction, direction)
        with Image.open(written[0]) as image:
            assert image.size == (50, 37) and image.mode == "L"
    folder = translate_files(run, tmp_path / "in", tmp_path / "folder")
    assert [p.name for p in folder] == ["photo.png"]
    with pytest.raises(GanforgeError, match="input not found"):
        translate_files(run, tmp_path / "missing.png", tmp_path / "x")
    with pytest.raises(GanforgeError, match="unknown direction"):
        load_translator(run, "sideways")
