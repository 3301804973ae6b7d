"""A few training steps of the spoken-digits and vocoder presets (tiny settings), then sampling WAVs, vocoding,
evaluation, the served routes and exact resume."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from train_helpers import assert_same_state, checkpoint_of

from ganforge.errors import GanforgeError
from ganforge.families import FAMILY_MODULES, load_config
from ganforge.families.base import EvalRequest, SampleRequest, Upload
from ganforge.run_folder import RunFolder
from ganforge.runs import load_run, resume, train

soundfile = pytest.importorskip("soundfile", reason="the speech extra is not installed")
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")

DIGITS = ["data.voices=6", "data.takes=1", "data.batch_size=8", "model.z_dim=8", "model.g_width=4",
          "model.d_width=4", "model.griffin_lim_iters=4", "train.steps=4", "train.log_every=2",
          "train.sample_every=2", "train.checkpoint_every=2", "train.device=cpu", "eval.every=2",
          "eval.during_n=10"]
VOCODER = ["data.voices=6", "data.takes=1", "data.batch_size=2", "data.segment=1024", "model.channels=16",
           "model.kernels=[3]", "model.dilations=[[1]]", "model.periods=[2,3]", "model.period_channels=4",
           "model.scales=1", "model.scale_channels=8", "train.steps=4", "train.log_every=2", "train.sample_every=2",
           "train.checkpoint_every=2", "train.device=cpu", "eval.n=2", "eval.griffin_lim_iters=2", "loss.adv_start=1"]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, single_thread: None) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("speech-runs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GANFORGE_DATA", str(root / "data"))
        patch.setitem(FAMILY_MODULES, "speech", "speech")
        patch.setitem(FAMILY_MODULES, "vocoder", "vocoder")
        yield root


@pytest.fixture(scope="module")
def digits_run(env: Path) -> Path:
    return train(load_config("spoken-digits", overrides=DIGITS), env / "digits", progress=False)


@pytest.fixture(scope="module")
def vocoder_run(env: Path) -> Path:
    return train(load_config("vocoder-hifigan", overrides=VOCODER), env / "vocoder", progress=False)


def test_spoken_digits_trains_and_samples_the_requested_class(digits_run: Path, tmp_path: Path) -> None:
    assert (digits_run / "samples" / "latest.wav").is_file()
    assert (digits_run / "samples" / "step-0000004.wav").is_file()
    assert (digits_run / "samples" / "latest.png").is_file()
    loaded = load_run(digits_run)
    request = SampleRequest(n=2, seed=3, class_index=7)
    loaded.family.check_conditions(request)
    clips = loaded.family.sample(loaded.model, request)
    assert [n.endswith("seven") for n in clips.names] == [True, True]
    summary = loaded.family.write(clips, tmp_path / "sevens")
    files = sorted((tmp_path / "sevens").glob("*.wav"))
    assert len(files) == 2 and "2 WAV" in summary
    audio, rate = soundfile.read(files[0])
    assert rate == 8000 and len(audio) == 8192 and np.abs(audio).max() > 0.5
    again = loaded.family.sample(loaded.model, request)
    np.testing.assert_array_equal(clips.clips[1], again.clips[1])  # same seed, same clips
    loaded.family.write(clips, tmp_path / "one.wav")
    assert soundfile.info(tmp_path / "one.wav").frames > 2 * 8192
    with pytest.raises(GanforgeError, match="--class 12"):
        loaded.family.sample(loaded.model, SampleRequest(n=1, class_index=12))
    with pytest.raises(GanforgeError, match="--input"):
        loaded.family.check_conditions(SampleRequest(input=Path("x.wav")))
    with pytest.raises(GanforgeError, match="write"):
        loaded.family.write(clips, tmp_path / "x.mp3")


def test_spoken_digits_evaluation_and_route(digits_run: Path) -> None:
    loaded = load_run(digits_run)
    results = loaded.family.evaluate(RunFolder(digits_run), loaded.model, EvalRequest(n=20))
    assert results["protocol"]["classifier"] == "spoken-digits-v1"
    assert results["real_vs_real"]["digit_accuracy"] > 0.8 > results["noise"]["digit_accuracy"]
    assert results["real_vs_real"]["digit_fd"] < results["noise"]["digit_fd"]
    assert "accuracy" in loaded.family.report(results)
    digits = results["generated_by_digit"]
    assert list(digits) == list(loaded.model.classes) and sum(d["clips"] for d in digits.values()) == 20
    mean = sum(d["accuracy"] * d["clips"] for d in digits.values()) / 20
    assert mean == pytest.approx(results["generated"]["digit_accuracy"], abs=1e-3)
    assert "by digit: zero" in loaded.family.report(results)
    route = {r.name: r for r in loaded.family.routes()}["generate"]
    reply = route.handler(loaded.model, route.request.model_validate({"n": 1, "seed": 1, "class": 7}))
    assert reply.media_type == "audio/wav" and reply.body[:4] == b"RIFF"
    picture = {r.name: r for r in loaded.family.routes()}["spectrogram"]
    assert picture.handler(loaded.model, route.request.model_validate({"n": 2})).body[:4] == b"\x89PNG"


def test_evaluation_during_training_keeps_the_best_checkpoint_and_changes_no_training(env: Path, digits_run: Path
                                                                                     ) -> None:
    records = [json.loads(r) for r in (digits_run / "metrics.jsonl").read_text().splitlines() if r]
    evals = [r for r in records if "eval_digit_accuracy" in r]
    assert [r["step"] for r in evals] == [2, 4]
    assert all(0 <= r["eval_digit_accuracy"] <= 1 and r["eval_digit_fd"] > 0 for r in evals)
    first_best = max(evals, key=lambda r: r["eval_digit_accuracy"])  # ties keep the earlier checkpoint
    best = load_run(digits_run, checkpoint="best")
    assert best.step == first_best["step"] and best.checkpoint.name == "best.pt"
    assert RunFolder(digits_run).checkpoint_file("auto").name == "best.pt"  # the CLI's default
    plain = train(load_config("spoken-digits", overrides=[*DIGITS, "eval.every=0"]), env / "no-eval", progress=False)
    assert not (plain / "checkpoints" / "best.pt").exists()
    assert RunFolder(plain).checkpoint_file("auto").name == "last.pt"
    with pytest.raises(GanforgeError, match="no best checkpoint"):
        RunFolder(plain).checkpoint_file("best")
    assert_same_state(checkpoint_of(plain)["recipe"]["generator"], checkpoint_of(digits_run)["recipe"]["generator"])


def test_vocoder_trains_and_keeps_the_length_when_vocoding(vocoder_run: Path, tmp_path: Path) -> None:
    assert (vocoder_run / "samples" / "latest.wav").is_file()
    records = [r for r in (vocoder_run / "metrics.jsonl").read_text().splitlines() if r]
    assert '"d_loss": 0.0' not in records[-1]  # the discriminators trained after loss.adv_start
    loaded = load_run(vocoder_run)
    t = np.arange(32000) / 16000
    soundfile.write(tmp_path / "glide.wav", 0.4 * np.sin(2 * np.pi * (150 + 50 * t) * t), 16000)
    clips = loaded.family.sample(loaded.model, SampleRequest(input=tmp_path / "glide.wav"))
    loaded.family.write(clips, tmp_path / "out")
    assert soundfile.info(tmp_path / "out" / "glide.wav").frames == 32000
    mel = loaded.model.mel(torch.zeros(2560))
    assert loaded.model(mel).shape == (2560,)  # the Python call: mel -> audio
    (tmp_path / "bad.wav").write_bytes(b"not a wav")
    with pytest.raises(GanforgeError, match="not a readable WAV"):
        loaded.family.sample(loaded.model, SampleRequest(input=tmp_path / "bad.wav"))
    with pytest.raises(GanforgeError, match="--input"):
        loaded.family.sample(loaded.model, SampleRequest(n=1))
    routes = {r.name: r for r in loaded.family.routes()}
    upload = Upload((tmp_path / "glide.wav").read_bytes(), "audio/wav", {})
    assert routes["vocode"].handler(loaded.model, upload).media_type == "audio/wav"
    with pytest.raises(GanforgeError, match="not a readable WAV"):
        routes["vocode"].handler(loaded.model, Upload(b"junk", "audio/wav", {}))


def test_vocoder_evaluation_has_baseline_and_protocol(vocoder_run: Path) -> None:
    loaded = load_run(vocoder_run)
    results = loaded.family.evaluate(RunFolder(vocoder_run), loaded.model, EvalRequest(n=1, metrics="mel_l1,stft,rtf"))
    assert set(results["vocoder"]) == {"mel_l1", "stft"} and set(results["griffin_lim"]) == {"mel_l1", "stft"}
    assert results["real_time_factor"] > 0 and results["protocol"]["clips"] == 1
    assert "griffin-lim" in loaded.family.report(results)


def test_vocoder_resume_is_exact(env: Path, vocoder_run: Path) -> None:
    config = load_config("vocoder-hifigan", overrides=VOCODER)
    half = train(config, env / "half", steps=2, progress=False)
    resume(half, 4, progress=False)
    assert_same_state(checkpoint_of(half)["recipe"]["generator"], checkpoint_of(vocoder_run)["recipe"]["generator"])


def test_spoken_digits_resume_is_exact_with_diffaugment(env: Path, digits_run: Path) -> None:
    config = load_config("spoken-digits", overrides=DIGITS)
    assert config.data.diffaugment == ["time_shift"]  # the preset's: its random shifts must resume exactly too
    half = train(config, env / "digits-half", steps=2, progress=False)
    resume(half, 4, progress=False)
    whole, resumed = checkpoint_of(digits_run)["recipe"], checkpoint_of(half)["recipe"]
    for part in ("generator", "discriminator"):
        assert_same_state(resumed[part], whole[part], part)
    with pytest.raises(GanforgeError, match="DiffAugment op"):
        train(load_config("spoken-digits", overrides=[*DIGITS, "data.diffaugment=[warp]"]), env / "bad-aug",
              progress=False)


def test_bad_configs_are_refused(env: Path) -> None:
    with pytest.raises(GanforgeError, match="multiple of the hop"):
        load_config("vocoder", overrides=["data.segment=1000"])
    with pytest.raises(GanforgeError, match="unknown key"):
        load_config("spoken-digits", overrides=["model.widht=3"])
    with pytest.raises(GanforgeError, match="no such folder"):
        train(load_config("vocoder-hifigan", overrides=[*VOCODER, "data.name=wav:/nonexistent/folder"]), env / "x",
              progress=False)


def test_own_classes_train_without_the_digit_evaluation_and_say_so(env: Path, capsys: pytest.CaptureFixture
                                                                    ) -> None:
    folder = env / "own-words"
    for word, pitch in (("yes", 220.0), ("no", 330.0)):
        (folder / word).mkdir(parents=True)
        for i in range(6):
            tone = 0.5 * np.sin(2 * np.pi * (pitch + 10 * i) * np.arange(8192) / 8000)
            soundfile.write(folder / word / f"{i}.wav", tone, 8000)
    capsys.readouterr()
    run = train(load_config("spoken-digits", overrides=[*DIGITS, f"data.name=wav:{folder}"]), env / "own",
                progress=False)
    assert "no evaluation during training" in capsys.readouterr().err
    assert (run / "checkpoints" / "last.pt").is_file() and not (run / "checkpoints" / "best.pt").exists()
