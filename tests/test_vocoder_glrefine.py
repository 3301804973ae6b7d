"""The gl-refine vocoder arch: exact mel -> audio shapes, the untrained model IS Griffin-Lim, a few training steps
move it away from Griffin-Lim, exact resume, and bad configs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.families import FAMILY_MODULES, load_config
from ganforge.families.speech.audio import mel_griffin_lim
from ganforge.families.vocoder.config import GLRefineConfig
from ganforge.families.vocoder.glrefine import GLRefineGenerator
from ganforge.families.vocoder.model import Vocoder, build_generator, mel_spec
from ganforge.runs import load_run, resume, train

PRESET = "vocoder"
TINY = GLRefineConfig(channels=16, blocks=1, phase_blocks=1, griffin_lim_iters=3)
OVERRIDES = ["data.voices=6", "data.takes=1", "data.batch_size=2", "data.segment=2048", "model.channels=16",
             "model.blocks=1", "model.phase_blocks=1", "model.griffin_lim_iters=3", "model.periods=[2,3]",
             "model.period_channels=4", "model.scales=1", "model.scale_channels=8", "train.steps=4",
             "train.log_every=2", "train.sample_every=2", "train.checkpoint_every=2", "train.device=cpu",
             "loss.adv_start=2"]


def test_shapes_are_exact(single_thread: None) -> None:
    spec = mel_spec(TINY, 16000)
    mel = spec(torch.randn(2, 256 * 20) * 0.1)
    generator = build_generator(TINY, 16000).eval()
    assert isinstance(generator, GLRefineGenerator)
    assert generator(mel).shape == (2, 1, 256 * 20)
    assert generator(mel[:, :, :1]).shape == (2, 1, 256)  # a single frame
    vocoder = Vocoder(generator, spec, 16000)
    assert vocoder(mel[0]).shape == (256 * 20,)
    assert vocoder.vocode(np.full(5000, 0.01, np.float32)).shape == (5000,)


def test_untrained_output_is_griffin_lim_and_gradients_reach_both_networks(single_thread: None) -> None:
    torch.manual_seed(0)
    spec = mel_spec(TINY, 16000)
    t = torch.arange(256 * 12) / 16000
    mel = spec(torch.stack([0.3 * torch.sin(2 * torch.pi * 220 * t), torch.randn(len(t)) * 0.1]))
    generator = build_generator(TINY, 16000)
    audio = generator(mel)[:, 0]
    baseline = mel_griffin_lim(mel, spec, TINY.griffin_lim_iters, seed=0)
    torch.testing.assert_close(audio, baseline, rtol=0, atol=0)
    audio.square().mean().backward()
    for net in (generator.magnitude_net, generator.phase_net):
        assert net is not None and net.post.weight.grad is not None and net.post.weight.grad.abs().sum() > 0
    no_phase = build_generator(TINY.model_copy(update={"phase_blocks": 0}), 16000)
    assert no_phase.phase_net is None
    torch.testing.assert_close(no_phase(mel)[:, 0], baseline, rtol=0, atol=0)


def test_bad_configs_are_refused() -> None:
    with pytest.raises(GanforgeError, match="must divide model.n_fft"):
        load_config(PRESET, overrides=["model.hop=300"])
    with pytest.raises(GanforgeError, match="odd"):
        load_config(PRESET, overrides=["model.kernel=4"])
    with pytest.raises(GanforgeError, match="upsample_rates"):
        load_config(PRESET, overrides=["model.upsample_rates=[8,8,4]"])  # a hifigan key


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, single_thread: None) -> Iterator[Path]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    pytest.importorskip("soundfile", reason="the speech extra is not installed")
    root = tmp_path_factory.mktemp("glrefine-runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GANFORGE_DATA", str(root / "data"))
        patch.setitem(FAMILY_MODULES, "vocoder", "vocoder")
        yield root


@pytest.fixture(scope="module")
def run(env: Path) -> Path:
    return train(load_config(PRESET, overrides=OVERRIDES), env / "whole", progress=False)


def test_training_moves_away_from_griffin_lim(run: Path) -> None:
    records = [r for r in (run / "metrics.jsonl").read_text().splitlines() if r]
    assert '"d_loss": 0.0' not in records[-1]  # the discriminators trained after loss.adv_start
    loaded = load_run(run)
    generator = loaded.model.generator
    assert isinstance(generator, GLRefineGenerator)
    assert generator.magnitude_net.post.weight.abs().sum() > 0
    mel = loaded.model.mel(torch.randn(256 * 8) * 0.1)[None]
    assert not torch.equal(generator(mel)[:, 0], mel_griffin_lim(mel, loaded.model.mel, 3, seed=0))


def test_resume_is_exact(env: Path, run: Path) -> None:
    half = train(load_config(PRESET, overrides=OVERRIDES), env / "half", steps=2, progress=False)
    resume(half, 4, progress=False)
    whole = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    resumed = torch.load(half / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    for part in ("generator", "discriminator"):
        for key, value in whole[part].items():
            torch.testing.assert_close(resumed[part][key], value, rtol=0, atol=0)
