"""The video family's ``warp`` generator: one glyph per clip moved by the motion network."""

from __future__ import annotations

import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.families import load_config
from ganforge.families.base import SampleRequest
from ganforge.families.video.warp import WarpGenerator, reflect

TINY = ["model.arch=warp", "data.clips=32", "data.size=16", "data.batch_size=4", "model.content_dim=8",
        "model.motion_dim=4", "model.noise_dim=4", "model.g_width=8", "model.d_width=8", "model.image_frames=2",
        "train.steps=3", "train.log_every=1", "train.sample_every=3", "train.checkpoint_every=3",
        "train.grid_size=4", "train.device=cpu"]


def tiny_config(*extra: str):
    return load_config("video-moving-digits", overrides=[*TINY, *extra])


def test_reflect_folds_into_the_frame_and_is_identity_inside():
    x = torch.tensor([-0.3, 0.0, 0.4, 0.6, 1.2, -0.7, 2.1])
    assert torch.allclose(reflect(x, 0.5), torch.tensor([-0.3, 0.0, 0.4, 0.4, -0.2, -0.3, 0.1]), atol=1e-6)


@pytest.mark.parametrize("wobble", [0.0, 0.5])
def test_warp_clips_move_one_glyph_inside_the_frame(single_thread, wobble):
    torch.manual_seed(0)
    g = WarpGenerator(frames=6, channels=1, size=32, content_dim=8, motion_dim=4, noise_dim=4, width=8,
                      max_speed=2.0, wobble=wobble).eval()
    content, noise = g.latents(5, torch.Generator().manual_seed(1))
    clips = g(content, noise)
    assert clips.shape == (5, 6, 1, 32, 32) and clips.min() >= -1 and clips.max() <= 1
    positions = g.positions(noise)
    assert positions.shape == (5, 6, 2) and positions.abs().max() <= g.limit + 1e-6
    steps_px = positions.diff(dim=1).norm(dim=-1) * 32 / 2
    assert steps_px.max() <= 2**0.5 * (2.0 + wobble) + 1e-4  # at most max_speed (+ wobble) per axis
    # the same glyph in every frame: its ink is the same, only moved (bilinear shifts keep the sum inside)
    ink = ((clips + 1) / 2).sum(dim=(2, 3, 4))
    assert torch.allclose(ink, ink[:, :1].expand_as(ink), rtol=0.02)
    assert not torch.allclose(clips[:, 0], clips[:, -1])
    # gradients reach the content decoder and the motion network
    clips.sum().backward()
    assert g.decoder.stem[0].weight.grad.abs().sum() > 0 and g.motion.cell.weight_ih.grad.abs().sum() > 0


def test_warp_refuses_bad_glyphs_and_needs_a_class_when_conditional():
    with pytest.raises(GanforgeError, match="model.glyph"):
        WarpGenerator(8, 1, 16, 4, 4, 4, 8, glyph=12)
    with pytest.raises(GanforgeError, match="model.glyph"):
        WarpGenerator(8, 1, 16, 4, 4, 4, 8, glyph=32)
    g = WarpGenerator(8, 1, 16, 4, 4, 4, 8, num_classes=10)
    with pytest.raises(GanforgeError, match="--class"):
        g(*g.latents(2))
    assert g(*g.latents(2), torch.tensor([1, 2])).shape == (2, 8, 1, 16, 16)


def test_warp_trains_a_few_steps_samples_and_resumes_exactly(tmp_path, single_thread):
    from ganforge.runs import load_run, resume, train

    whole = train(tiny_config("model.wobble=0.25", "model.crop_d=true"), tmp_path / "whole", progress=False)
    part = train(tiny_config("model.wobble=0.25", "model.crop_d=true", "train.steps=2"), tmp_path / "part",
                 progress=False)
    resume(part, steps=3, progress=False)
    a = torch.load(whole / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    b = torch.load(part / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    for net in ("generator", "video_d", "image_d", "crop_d"):
        assert all(torch.equal(a[net][k], b[net][k]) for k in a[net])
    assert (whole / "samples" / "latest.gif").exists()
    run = load_run(whole)
    assert run.step == 3 and run.config.model.arch == "warp"
    clips = run.family.sample(run.model, SampleRequest(n=2, seed=3))["clips"]
    assert clips.shape == (2, 16, 1, 16, 16)
    assert torch.equal(clips, run.family.sample(run.model, SampleRequest(n=2, seed=3))["clips"])


def test_object_crops_centre_the_object_and_pass_gradients_to_pixels():
    from ganforge.families.video.recipe import CROP_SIDE, object_crops

    frames = torch.full((2, 1, 32, 32), -1.0)
    frames[0, :, 3:7, 20:24] = 1.0  # a 4x4 square centred at (x, y) = (21.5, 4.5)
    frames[1, :, 24:28, 2:6] = 1.0
    frames.requires_grad_(True)
    crops = object_crops(frames)
    assert crops.shape == (2, 1, CROP_SIDE, CROP_SIDE)
    ink = (crops.detach() + 1) / 2
    centre = torch.arange(CROP_SIDE, dtype=torch.float32).sub((CROP_SIDE - 1) / 2)
    for i in range(2):  # the ink's centre of mass is the crop's centre
        assert abs(float((ink[i, 0].sum(0) * centre).sum() / ink[i].sum())) < 0.1
        assert abs(float((ink[i, 0].sum(1) * centre).sum() / ink[i].sum())) < 0.1
    crops.sum().backward()
    assert frames.grad[0, 0, 3:7, 20:24].abs().sum() > 0
