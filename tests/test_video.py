"""The video family: moving digits, video files in and out, metrics, a few training steps, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganforge.data.base import uint8_to_unit as to_unit
from ganforge.errors import GanforgeError
from ganforge.families import load_config
from ganforge.families.base import EvalRequest, SampleRequest
from ganforge.families.video.config import VideoDataConfig
from ganforge.families.video.data import build_clip_data
from ganforge.families.video.featnet import load_video_net
from ganforge.families.video.files import read_video, write_gif, write_mp4
from ganforge.families.video.metrics import measure, reference_rows
from ganforge.families.video.moving import digit_size, moving_digits
from ganforge.metrics.digits_net import load_digits_net

TINY = ["data.clips=32", "data.size=16", "data.batch_size=4", "model.content_dim=8", "model.motion_dim=4",
        "model.noise_dim=4", "model.g_width=16", "model.d_width=8", "model.image_frames=2", "train.steps=4",
        "train.log_every=2", "train.sample_every=2", "train.checkpoint_every=2", "train.grid_size=4",
        "train.device=cpu", "eval.n=16"]


def tiny_config(*extra: str):
    return load_config("video-moving-digits", overrides=[*TINY, *extra])


@pytest.fixture(scope="module")
def trained(tmp_path_factory, single_thread):
    from ganforge.runs import train

    return train(tiny_config(), tmp_path_factory.mktemp("video") / "run", progress=False)


def test_moving_digits_are_deterministic_and_stay_in_frame(single_thread):
    a, b = moving_digits(12, seed=5), moving_digits(12, seed=5)
    assert a.clips.shape == (12, 16, 1, 32, 32) and a.clips.dtype == torch.uint8
    assert torch.equal(a.clips, b.clips) and torch.equal(a.trajectories, b.trajectories)
    assert not torch.equal(a.clips, moving_digits(12, seed=6).clips)
    limit = 32 - digit_size(32)
    assert a.trajectories.min() >= 0 and a.trajectories.max() <= limit
    assert torch.equal(a.labels, a.digits[:, 0]) and a.directions.max() < 8
    two = moving_digits(4, frames=8, size=64, digits=2, seed=1)
    assert two.clips.shape == (4, 8, 1, 64, 64) and two.digits.shape == (4, 2)
    # the digit really moves: the first and last frames differ
    assert (a.clips[:, 0].float() - a.clips[:, -1].float()).abs().mean() > 1


def test_gif_and_mp4_round_trips_keep_frame_count_and_size(tmp_path):
    clip = moving_digits(1, seed=2).clips[0].permute(0, 2, 3, 1).numpy()  # [16, 32, 32, 1]
    back = read_video(write_gif(clip, tmp_path / "a.gif"))
    assert back.shape == (16, 32, 32, 3)
    assert np.array_equal(back[..., 0], clip[..., 0])  # gray GIFs are lossless
    back = read_video(write_mp4(clip, tmp_path / "a.mp4", fps=8))
    assert back.shape == (16, 32, 32, 3)
    assert np.abs(back[..., 0].astype(int) - clip[..., 0]).mean() < 4  # H.264 is lossy but close
    odd = np.zeros((5, 15, 21, 3), dtype=np.uint8)
    assert read_video(write_mp4(odd, tmp_path / "odd.mp4")).shape == (5, 16, 22, 3)  # padded to even sides


def test_metrics_rank_real_above_time_shuffled_and_static(single_thread):
    net, video_net = load_digits_net(), load_video_net()
    names = ["fvd", "frame_fid", "temporal", "motion"]
    real = measure(to_unit(moving_digits(48, seed=11).clips), names, net, video_net)
    rows = reference_rows(real, to_unit(moving_digits(48, seed=12).clips), names, net, video_net, seed=0)
    for worse in ("time-shuffled", "static"):
        assert rows["real"]["fvd"] < rows[worse]["fvd"]
        assert rows["real"]["temporal_consistency"] > rows[worse]["temporal_consistency"] + 0.5
        assert rows["real"]["motion_smoothness"] > rows[worse]["motion_smoothness"] + 0.5
    assert rows["time-shuffled"]["jerk_median"] > 5 * rows["real"]["jerk_median"]
    assert rows["real"]["frame_fid"] < 25  # 768 frames a side: small-sample bias only


def test_requested_digit_counts_frames_read_as_the_asked_digit(single_thread):
    net = load_digits_net()
    clips = moving_digits(48, seed=13)
    frames = to_unit(clips.clips)
    right = measure(frames, ["temporal"], net, None, clips.labels).scores["requested_digit"]
    wrong = measure(frames, ["temporal"], net, None, (clips.labels + 1) % 10).scores["requested_digit"]
    assert right > 0.5 and wrong < 0.2 and right > 3 * wrong
    assert "requested_digit" not in measure(frames, ["temporal"], net, None).scores


def test_a_few_training_steps_write_previews_and_samples(trained, tmp_path):
    from ganforge.runs import load_run

    samples = sorted(p.name for p in (trained / "samples").iterdir())
    assert {"latest.gif", "latest.png", "step-0000002.gif", "step-0000004.png"} <= set(samples)
    run = load_run(trained)
    assert run.step == 4
    first = run.family.sample(run.model, SampleRequest(n=2, seed=3))
    assert first["clips"].shape == (2, 16, 1, 16, 16)
    assert torch.equal(first["clips"], run.family.sample(run.model, SampleRequest(n=2, seed=3))["clips"])
    run.family.write(first, tmp_path / "gifs")
    gifs = sorted((tmp_path / "gifs").glob("*.gif"))
    assert len(gifs) == 2 and read_video(gifs[0]).shape[0] == 16
    run.family.write(first, tmp_path / "grid.mp4")
    assert (tmp_path / "grid.mp4").read_bytes()[4:8] == b"ftyp"
    with pytest.raises(GanforgeError, match="--out"):
        run.family.check_suffix(tmp_path / "x.wav")
    with pytest.raises(GanforgeError, match="class-conditional"):
        run.family.sample(run.model, SampleRequest(n=1, class_index=3))


def test_served_gif_and_eval_protocol(trained):
    from ganforge.families.video.family import ClipRequest, gif_reply
    from ganforge.runs import load_run

    run = load_run(trained)
    reply = gif_reply(run.model, ClipRequest(n=2, seed=1))
    assert reply.media_type == "image/gif" and reply.body[:6] == b"GIF89a"
    with pytest.raises(ValueError):
        ClipRequest.model_validate({"n": 1, "bogus": 2})
    results = run.family.evaluate(trained, run.model, EvalRequest(n=16, metrics="temporal,motion"))
    assert set(results) == {"run", "references", "protocol"}
    assert results["protocol"]["fake_clips"] == 16
    assert "temporal_consistency" in results["run"] and "static" in results["references"]
    assert "real" in run.family.report(results)


def test_resume_is_exact(tmp_path, single_thread):
    """The MoCoGAN arch (the preset's warp arch: tests/test_video_warp.py)."""
    from ganforge.runs import resume, train

    whole = train(tiny_config("model.arch=mocogan", "train.steps=3"), tmp_path / "whole", progress=False)
    part = train(tiny_config("model.arch=mocogan", "train.steps=2"), tmp_path / "part", progress=False)
    resume(part, steps=3, progress=False)
    a = torch.load(whole / "checkpoints" / "last.pt", weights_only=True)["recipe"]["generator"]
    b = torch.load(part / "checkpoints" / "last.pt", weights_only=True)["recipe"]["generator"]
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_bad_video_files_are_counted_or_refused(tmp_path, capsys):
    folder = tmp_path / "vids"
    (folder / "cats").mkdir(parents=True)
    (folder / "bad.mp4").write_text("not a video")
    (folder / "empty.webm").write_bytes(b"")
    data = VideoDataConfig(name=f"video:{folder}", size=16, frames=8)
    with pytest.raises(GanforgeError, match="no usable video clips.*2 unreadable"):
        build_clip_data(data)
    frames = np.random.default_rng(0).integers(0, 255, (20, 30, 44, 3), dtype=np.uint8)  # odd, non-square
    write_mp4(frames, folder / "cats" / "ok.mp4")
    write_gif(frames[:3], folder / "cats" / "short.gif")
    clips = build_clip_data(data)
    assert clips.clips.shape == (2, 8, 3, 16, 16) and clips.class_names == ["cats"]
    warning = capsys.readouterr().err
    assert warning.count("\n") == 1 and "2 unreadable" in warning and "1 file(s) shorter than 8" in warning
    with pytest.raises(GanforgeError, match="not found"):
        build_clip_data(VideoDataConfig(name=f"video:{tmp_path / 'nowhere'}"))
    with pytest.raises(GanforgeError, match="moving-digits or video:PATH"):
        build_clip_data(VideoDataConfig(name="moving-mnist"))
    with pytest.raises(GanforgeError, match="data.size=24"):
        from ganforge.families.video.family import VideoFamily

        VideoFamily().build_data(tiny_config("data.size=24"))
    with pytest.raises(GanforgeError, match="unknown key"):
        tiny_config("model.bogus=1")


def test_class_conditional_run_samples_the_asked_class(tmp_path, single_thread):
    from ganforge.runs import load_run, train

    run_dir = train(tiny_config("model.conditional=true", "train.steps=2"), tmp_path / "cond", progress=False)
    run = load_run(run_dir)
    assert run.config.model.num_classes == 10 and run.family.describe(run.model)["num_classes"] == 10
    clips = run.family.sample(run.model, SampleRequest(n=2, seed=0, class_index=7))["clips"]
    assert clips.shape == (2, 16, 1, 16, 16)
    with pytest.raises(GanforgeError, match="between 0 and 9"):
        run.family.sample(run.model, SampleRequest(n=1, class_index=12))
    results = run.family.evaluate(run_dir, run.model, EvalRequest(n=16, metrics="temporal"))
    assert 0 <= results["run"]["requested_digit"] <= 1
    assert results["references"]["real"]["requested_digit"] > 0.2  # their own digit, above chance (0.1) at 16 px
    assert "requested_digit" in run.family.report(results)
