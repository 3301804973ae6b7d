"""The glyph phase of warp runs (``model.glyph_steps``): real glyphs, glyph clusters, phases and exact resume."""

from __future__ import annotations

import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.families import load_config
from ganforge.families.base import SampleRequest
from ganforge.families.video.glyphs import cut_glyphs
from ganforge.families.video.warp import WarpGenerator

GLYPH_RUN = ["model.arch=warp", "data.clips=60", "data.size=16", "data.batch_size=4", "model.content_dim=8",
             "model.motion_dim=4", "model.noise_dim=4", "model.g_width=8", "model.d_width=8", "model.image_frames=2",
             "model.glyph_steps=2", "model.glyph_batch_size=8", "model.glyph_d_width=8", "train.steps=4",
             "train.log_every=1", "train.sample_every=4", "train.checkpoint_every=4", "train.grid_size=4",
             "train.device=cpu"]


def glyph_config(*extra: str):
    return load_config("video-moving-digits", overrides=[*GLYPH_RUN, *extra])


def test_cut_glyphs_centre_the_object_at_whole_pixels():
    frames = torch.zeros(2, 1, 32, 32, dtype=torch.uint8)
    frames[0, 0, 3:7, 20:24] = 200  # a 4x4 square, centre of mass (21.5, 4.5): rounds to (22, 4)
    frames[1, 0, 24:30, 0:2] = 90  # at the left edge: the crop reaches beyond the frame (background)
    glyphs = cut_glyphs(frames, 8)
    assert glyphs.shape == (2, 1, 8, 8) and glyphs.dtype == torch.uint8
    assert int(glyphs[0].sum()) == 16 * 200 and int(glyphs[1].sum()) == 12 * 90  # all ink kept, none resampled
    assert torch.equal(glyphs[0, 0, 3:7, 2:6], torch.full((4, 4), 200, dtype=torch.uint8))
    assert torch.equal(glyphs[1, 0, :, :2], torch.zeros(8, 2, dtype=torch.uint8))  # left of the frame
    colour = cut_glyphs(frames.expand(-1, 3, -1, -1), 8)  # colour frames keep their channels
    assert colour.shape == (2, 3, 8, 8) and all(torch.equal(colour[:, i], glyphs[:, 0]) for i in range(3))


def test_clusters_are_drawn_from_the_content_latent_by_their_shares():
    g = WarpGenerator(4, 1, 16, 6, 4, 4, 8, clusters=3)
    g.set_cluster_shares(torch.tensor([0.5, 0.3, 0.2]))
    content = torch.zeros(4, 6)
    content[:, 0] = torch.tensor([-3.0, 0.1, 0.6, 3.0])  # normal CDF: 0.001, 0.54, 0.73, 0.999
    assert g.clusters_of(content).tolist() == [0, 1, 1, 2]
    drawn = g.clusters_of(torch.randn(20_000, 6, generator=torch.Generator().manual_seed(0)))
    assert torch.allclose(torch.bincount(drawn).float() / 20_000, torch.tensor([0.5, 0.3, 0.2]), atol=0.015)
    assert WarpGenerator(4, 1, 16, 6, 4, 4, 8).clusters_of(content) is None


@pytest.mark.parametrize("glyph_net", ["upconv", "dcgan"])
def test_glyph_phase_trains_the_glyph_then_freezes_it_and_resumes_exactly(tmp_path, single_thread, glyph_net):
    from ganforge.runs import load_run, resume, train

    net = f"model.glyph_net={glyph_net}"
    whole = train(glyph_config(net), tmp_path / "whole", progress=False)
    for stop in (1, 3):  # inside the glyph phase, and inside the clip phase
        part = train(glyph_config(net, f"train.steps={stop}"), tmp_path / f"part{stop}", progress=False)
        resume(part, steps=4, progress=False)
        a = torch.load(whole / "checkpoints" / "last.pt", weights_only=True)["recipe"]
        b = torch.load(part / "checkpoints" / "last.pt", weights_only=True)["recipe"]
        assert all(torch.equal(a["generator"][k], b["generator"][k]) for k in a["generator"])
        assert all(torch.equal(a["video_d"][k], b["video_d"][k]) for k in a["video_d"])
        assert a["steps_done"] == b["steps_done"] == 4
    run = load_run(whole)
    assert run.config.model.glyph_clusters == 3  # 60 clips: about 20 glyphs per cluster
    clips = run.family.sample(run.model, SampleRequest(n=3, seed=2))["clips"]
    assert clips.shape == (3, 16, 1, 16, 16)
    assert torch.equal(clips, run.family.sample(run.model, SampleRequest(n=3, seed=2))["clips"])
    # the clip steps keep the glyph phase's EMA glyph (raw and EMA generators), and move the motion network
    glyph_end = train(glyph_config(net, "train.steps=2"), tmp_path / "glyph-end", progress=False)
    end_state = torch.load(glyph_end / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    before, averaged = end_state["generator"], end_state["ema"]["model"]
    final = torch.load(whole / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    glyph_keys = [k for k in before if k.startswith(("decoder.", "cluster_embed.")) and "running" not in k
                  and "num_batches" not in k]
    assert glyph_keys and not all(torch.equal(before[k], averaged[k]) for k in glyph_keys)
    for kept in (final["generator"], final["ema"]["model"]):
        assert all(torch.equal(averaged[k], kept[k]) for k in glyph_keys)
    assert not torch.equal(before["motion.cell.weight_ih"], final["generator"]["motion.cell.weight_ih"])
    fresh = load_config("video-moving-digits", overrides=GLYPH_RUN)
    assert not torch.equal(before["cluster_cdf"], torch.arange(1, 4) / 3)  # the real shares were set
    assert fresh.model.glyph_clusters == 100  # asked; fitted to the data when the run starts


def test_glyph_phase_of_a_conditional_run_draws_the_asked_class_and_mocogan_is_refused(tmp_path, single_thread):
    from ganforge.runs import load_run, train

    with pytest.raises(GanforgeError, match="model.glyph_steps"):
        train(glyph_config("model.arch=mocogan"), tmp_path / "mocogan", progress=False)
    run_dir = train(glyph_config("model.conditional=true", "model.glyph_net=dcgan", "train.steps=3"),
                    tmp_path / "conditional", progress=False)
    run = load_run(run_dir)
    assert run.config.model.glyph_clusters == 0 and run.model.generator.conditions == 10  # the class, not clusters
    sevens = run.family.sample(run.model, SampleRequest(n=2, seed=0, class_index=7))["clips"]
    threes = run.family.sample(run.model, SampleRequest(n=2, seed=0, class_index=3))["clips"]
    assert sevens.shape == (2, 16, 1, 16, 16) and not torch.equal(sevens, threes)
