"""The doctor: each diagnosis on hand-made records or numbers (rule level), and on tiny runs made to fail
that way (a D learning rate 20x G's, learning rates of 1e-1, a data set of one image, a slow EMA, a loss
that spikes then becomes NaN), plus a healthy run that must get no warning. Longer made-to-fail runs (a D 8x
wider, minimax with a strong D, ...) are in scripts/doctor_table.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
import yaml
from typer.testing import CliRunner

from ganforge import load_config, train
from ganforge import losses as losses_module
from ganforge.cli import app
from ganforge.doctor import DoctorWarnings, Report, examine
from ganforge.doctor.curves import d_overpowers, diverged, loss_spikes, oscillation, vanishing_gradients
from ganforge.doctor.diagnosis import Diagnosis, rank
from ganforge.doctor.samples import SampleStats, ema_lag, mode_collapse
from ganforge.doctor.settings import ema_init_share, ema_settings, lr_batch, lr_range
from ganforge.doctor.signals import Curves, RunSignals, Settings
from ganforge.training.callbacks import read_metrics
from ganforge.training.trainer import NonFiniteLossError

# 8x8 digits, 16-channel DCGAN, batch 32: a healthy run; 300 steps take a few seconds on one thread
TINY = ["data.name=digits8", "data.batch_size=32", "model.z_dim=16", "model.g_width=16", "model.d_width=16",
        "train.log_every=10", "train.sample_every=100", "train.checkpoint_every=100", "train.grid_size=16",
        "train.device=cpu", "train.steps=300"]


def records(n: int = 30, **series: object) -> list[dict[str, float]]:
    """``n`` metrics records, every 25 steps; each keyword is a constant or a function of the index."""
    base = {"d_loss": 1.2, "g_loss": 0.9, "d_real": 0.4, "d_fake": -0.4, "g_grad_norm": 5.0, **series}
    return [{"step": 25 * (i + 1), **{k: (v(i) if callable(v) else v) for k, v in base.items()}}
            for i in range(n)]


def curves(n: int = 30, **series: object) -> Curves:
    return Curves.from_records(records(n, **series))


BCE = Settings({"loss": {"name": "bce", "variant": "non-saturating"}, "optim": {"g_lr": 2e-4, "d_lr": 2e-4},
                "data": {"batch_size": 64}, "train": {"steps": 750, "ema_decay": 0.99, "ema_warmup": True}})


# --- rule level ------------------------------------------------------------------------------------

def test_healthy_curves_and_settings_give_nothing():
    healthy = curves(g_loss=lambda i: 0.9 + 0.05 * math.sin(i / 3), d_loss=lambda i: 1.2 - 0.01 * i)
    for check in (d_overpowers, vanishing_gradients, oscillation):
        assert check(healthy, BCE) is None
    assert loss_spikes(healthy, BCE) is None
    assert lr_range(BCE) is None and lr_batch(BCE) is None and ema_settings(BCE) is None


def test_d_overpowers_needs_a_long_confident_stretch_and_a_high_g_loss():
    found = d_overpowers(curves(d_real=5.0, d_fake=-5.0, g_loss=lambda i: 4 + 0.1 * i), BCE)
    assert found is not None and found.id == "d_overpowers" and found.severity == "high"
    assert "D(real) 0.99" in found.seen and found.key.startswith("optim.d_lr")
    short = curves(d_real=lambda i: 5.0 if i > 25 else 0.3, d_fake=-5.0, g_loss=5.0)
    assert d_overpowers(short, BCE) is None  # 4 records of 30: not a long stretch
    assert d_overpowers(curves(d_real=5.0, d_fake=-5.0, g_loss=0.8), BCE) is None  # G holds its own
    wgan = Settings({"loss": {"name": "wgan-gp"}})
    assert d_overpowers(curves(d_real=50.0, d_fake=-50.0, g_loss=50.0), wgan) is None  # logits are not odds


def test_a_conditional_d_must_be_surer_before_it_overpowers():
    projection = Settings({**BCE.config, "model": {"d_cond": "projection"}})
    healthy = curves(d_real=2.8, d_fake=-3.0, g_loss=3.6)  # the default's curves (FID 3): D(real) 0.94
    assert d_overpowers(healthy, BCE) is not None  # sure for an unconditional D
    assert d_overpowers(healthy, projection) is None
    assert d_overpowers(curves(d_real=14.0, d_fake=-15.0, g_loss=20.0), projection) is not None  # D lr 20x G's
    assert d_overpowers(healthy, Settings({**BCE.config, "model": {"d_cond": "none"}})) is not None


def test_vanishing_gradients_names_the_minimax_loss_when_it_is_the_cause():
    fading = curves(g_grad_norm=lambda i: 10.0 * 0.7**i)
    assert vanishing_gradients(fading, BCE).key == "optim.d_lr, loss.r1_gamma"
    assert vanishing_gradients(fading, BCE).severity == "critical"  # under 1% of the peak: stopped learning
    assert vanishing_gradients(curves(g_grad_norm=lambda i: 10.0 if i < 10 else 0.15), BCE).severity == "high"
    minimax = Settings({"loss": {"name": "bce", "variant": "minimax"}})
    assert vanishing_gradients(fading, minimax).key == "loss.variant" and vanishing_gradients(fading, minimax).cause
    assert vanishing_gradients(curves(g_grad_norm=lambda i: 10.0 / (1 + i)), BCE) is None  # 3% of the peak


def test_oscillation_is_large_alternating_swings():
    found = oscillation(curves(g_loss=lambda i: 1.0 if i % 2 else 3.0), BCE)
    assert found is not None and found.severity == "medium"
    assert oscillation(curves(g_loss=lambda i: 1.0 + 0.1 * (i % 2)), BCE) is None  # small swings
    assert oscillation(curves(g_loss=lambda i: 0.5 + 0.2 * i), BCE) is None  # a trend, no turns


# G's hinge loss of a healthy text2image-shapes run (`ganforge train text2image-shapes --steps 4000`, shape
# accuracy still rising), the 40 records (steps 2,475-3,450) on which the training doctor warned "oscillation"
# when it read them as a share of their level: the level sits near 0, where a share means nothing, and the
# records move by a median 0.08 logits
HEALTHY_HINGE = [-0.037, -0.033, -0.046, -0.016, -0.045, -0.105, -0.036, -0.038, -0.096, -0.113, 0.026, -0.069,
                 -0.057, -0.05, -0.027, 0.041, -0.073, -0.089, -0.066, -0.11, -0.09, -0.145, -0.082, -0.105, -0.016,
                 -0.134, -0.164, -0.068, -0.145, -0.083, -0.077, -0.105, -0.214, -0.159, -0.069, -0.166, -0.081,
                 -0.093, -0.185, -0.098]


def test_oscillation_reads_a_hinge_loss_in_logits_and_skips_a_wasserstein_critic():
    hinge = Settings({**BCE.config, "loss": {"name": "hinge"}})
    healthy = curves(len(HEALTHY_HINGE), g_loss=lambda i: HEALTHY_HINGE[i])
    assert oscillation(healthy, BCE) is not None  # a share of the level: the false alarm (38%)
    assert oscillation(healthy, hinge) is None
    found = oscillation(curves(g_loss=lambda i: -0.8 if i % 2 else 0.6), hinge)  # D and G trade 1.4 logits
    assert found is not None and "1.40 logits" in found.seen
    wgan = Settings({**BCE.config, "loss": {"name": "wgan-gp"}})
    assert oscillation(curves(g_loss=lambda i: -80.0 if i % 2 else 60.0), wgan) is None


def test_loss_spikes_and_a_stop_on_nan():
    spiky = curves(d_loss=lambda i: 40.0 if i in (20, 24) else 1.2)
    found = loss_spikes(spiky, BCE)
    assert found is not None and "d_loss 40 at step 525" in found.seen
    stop = {"event": "stopped", "step": 760, "error": "NonFiniteLossError", "message": "..."}
    signals = RunSignals(Path("."), BCE, spiky, [], stop)
    dead = diverged(signals)
    assert dead.severity == "critical" and "step 760" in dead.seen and "after loss spikes" in dead.seen
    fp16 = Settings({**BCE.config, "train": {"amp": "fp16"}})
    assert diverged(RunSignals(Path("."), fp16, spiky, [], stop)).key == "train.amp"
    assert diverged(RunSignals(Path("."), BCE, spiky, [], {**stop, "error": "TrainingInterrupted"})) is None


def test_learning_rate_range_and_ratio():
    assert lr_range(Settings({"optim": {"g_lr": 1e-4, "d_lr": 1e-4, "mle_lr": 5e-3}})) is None  # pre-training
    far = lr_range(Settings({**BCE.config, "optim": {"g_lr": 0.1, "d_lr": 0.1}}))
    assert far.severity == "critical" and "100x above" in far.seen and far.cause
    near = lr_range(Settings({**BCE.config, "optim": {"g_lr": 6e-4, "d_lr": 1.2e-3}}))
    assert near.severity == "medium" and "optim.d_lr=0.0012 (1.2x above" in near.seen
    ratio = lr_range(Settings({**BCE.config, "optim": {"g_lr": 2e-4, "d_lr": 4e-3}}))
    assert ratio.severity == "medium" and "20x G's" in ratio.seen
    assert lr_range(Settings({"loss": {"name": "wgan"}, "optim": {"g_lr": 5e-5, "d_lr": 5e-5}})) is None


def test_learning_rate_batch_size_pairing():
    tiny_batch = lr_batch(Settings({**BCE.config, "data": {"batch_size": 2}}))
    assert tiny_batch.severity == "high" and tiny_batch.key.startswith("data.batch_size")
    assert lr_batch(Settings({**BCE.config, "data": {"batch_size": 4}, "optim": {"g_lr": 1e-3, "d_lr": 1e-3}}))
    assert lr_batch(Settings({**BCE.config, "data": {"batch_size": 4}, "optim": {"g_lr": 1e-5, "d_lr": 1e-5}})) is None
    assert lr_batch(Settings({**BCE.config, "data": {"batch_size": 8}, "optim": {"g_lr": 1e-3, "d_lr": 1e-3}})) is None
    assert lr_batch(Settings({**BCE.config, "data": {"batch_size": 2}, "optim": {"g_lr": 0.1, "d_lr": 0.1}})) is None


def test_ema_share_of_the_initial_weights():
    assert ema_init_share(0.9999, False, 1000) == pytest.approx(0.9999**1000)
    assert ema_init_share(0.99, True, 5000) < 1e-6
    slow = ema_settings(Settings({"train": {"ema_decay": 0.9999, "ema_warmup": False, "steps": 2000}}))
    assert slow.id == "ema_lag" and slow.key == "train.ema_decay"
    assert ema_settings(Settings({"train": {"ema_decay": 0.0, "steps": 10}})) is None


def test_mode_collapse_and_ema_lag_from_sample_numbers():
    healthy = SampleStats(n=256, space="s", diversity=20.0, real_diversity=26.0, class_shares=[0.1] * 10,
                          timeline=[(500, 15.0), (1000, 18.0), (1500, 19.0)], fd_ema=20.0, fd_raw=25.0)
    assert mode_collapse(healthy) is None and ema_lag(healthy, 0.99) is None
    copies = SampleStats(n=256, space="s", diversity=3.0, real_diversity=26.0, duplicates=200)
    assert mode_collapse(copies).severity == "critical" and "200 of 256" in mode_collapse(copies).seen
    missing = SampleStats(n=256, space="s", diversity=20.0, real_diversity=26.0,
                          class_shares=[0.25, 0.25, 0.25, 0.24, 0.01, 0, 0, 0, 0, 0])
    assert "no 4, 5, 6, 7, 8, 9" in mode_collapse(missing).seen
    fell = SampleStats(n=256, space="s", diversity=20.0, timeline=[(500, 15.0), (1000, 18.0), (1500, 6.0)])
    assert "fell from 18 at step 1000" in mode_collapse(fell).seen
    assert mode_collapse(SampleStats(n=256, space="s", diversity=1.0, data_size=1)).key == "data.name"
    lagging = SampleStats(n=256, space="s", diversity=20.0, fd_ema=200.0, fd_raw=40.0)
    assert "5.0x the raw" in ema_lag(lagging, 0.9999).seen


def test_rank_puts_severity_first_then_causes():
    symptom = Diagnosis("d_overpowers", "high", "s", "f", "k")
    cause = Diagnosis("lr_batch", "high", "s", "f", "k", cause=True)
    worst = Diagnosis("diverged", "critical", "s", "f", "k")
    low = Diagnosis("oscillation", "medium", "s", "f", "k")
    assert [d.id for d in rank([low, symptom, cause, worst])] == ["diverged", "lr_batch", "d_overpowers",
                                                                   "oscillation"]
    with pytest.raises(ValueError, match="severity"):
        Diagnosis("oscillation", "bad", "s", "f", "k")


def test_report_text_is_short_and_json_has_everything():
    found = [Diagnosis(i, "medium", "s", "f", "k") for i in ("oscillation", "loss_spikes", "lr_range", "ema_lag")]
    report = Report("runs/x", "images", 100, None, 4, found, {"oscillation": "ran", "mode_collapse": "too early"})
    text = report.text()
    assert text.count("try:") == 3 and "also: the EMA generator lags [medium]" in text
    assert "not checked: mode_collapse (too early)" in text
    assert len(json.loads(json.dumps(report.to_dict()))["diagnoses"]) == 4


class FakeTrainer:
    step = 0


def test_training_warnings_are_rate_limited_and_a_stop_is_recorded(tmp_path):
    said: list[str] = []
    events = tmp_path / "events.jsonl"
    callback = DoctorWarnings(BCE.config, events, quiet_steps=500, echo=said.append)
    trainer = FakeTrainer()
    callback.on_train_start(trainer)
    for record in records(60, d_real=5.0, d_fake=-5.0, g_loss=6.0):
        trainer.step = record["step"]
        callback.on_log(trainer, record)
        callback.on_log(trainer, {"step": record["step"], "eval_fid": 3.0})  # evaluation records are ignored
    overpowered = [s for s in said if "overpowers" in s]
    # the first 250 steps are the warm-up, then 12 records: steps 550 and 1050 of 1500, once per 500 steps
    assert [s.split(":")[0] for s in overpowered] == ["doctor, step 550", "doctor, step 1050"]
    assert all("train.doctor=false" in s for s in said)
    callback.on_train_end(trainer)
    assert not events.exists()  # a normal end records nothing
    try:
        raise NonFiniteLossError("a loss became NaN or infinite at step 1500")
    except NonFiniteLossError:
        callback.on_train_end(trainer)
    event = json.loads(events.read_text())
    assert event["error"] == "NonFiniteLossError" and event["step"] == 1500


def test_training_warnings_keep_the_peak_gradient_of_the_warm_up():
    said: list[str] = []
    callback = DoctorWarnings(BCE.config, None, echo=said.append)
    trainer = FakeTrainer()
    for record in records(30, g_grad_norm=lambda i: 20.0 if i < 8 else 0.05):  # the peak is in the warm-up
        trainer.step = record["step"]
        callback.on_log(trainer, record)
    assert len(said) == 1 and "has stopped learning" in said[0]


def test_settings_warnings_print_once_at_the_start():
    said: list[str] = []
    callback = DoctorWarnings({**BCE.config, "data": {"batch_size": 2}}, None, echo=said.append)
    callback.on_train_start(FakeTrainer())
    assert len(said) == 1 and "batch size 2" in said[0]


# --- runs made to fail ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def root(tmp_path_factory, single_thread) -> Path:
    return tmp_path_factory.mktemp("doctor")


def tiny_run(root: Path, name: str, *overrides: str) -> Path:
    return train(load_config("dcgan", overrides=[*TINY, *overrides]), out=root / name, progress=False)


@pytest.fixture(scope="module")
def healthy(root) -> Path:
    return tiny_run(root, "healthy")


def test_a_healthy_run_gets_no_warning(healthy):
    report = examine(healthy, n=128)
    assert report.healthy, report.text()
    assert "no problems found" in report.text()
    assert all(v == "ran" for k, v in report.checks.items()), report.checks
    said: list[str] = []  # the training warnings see only the logged records: replayed, they say nothing either
    callback = DoctorWarnings(yaml.safe_load((healthy / "config.yaml").read_text()), None, echo=said.append)
    trainer = FakeTrainer()
    callback.on_train_start(trainer)
    for record in read_metrics(healthy / "metrics.jsonl"):
        trainer.step = record["step"]
        callback.on_log(trainer, record)
    assert said == []


def test_cli_exit_codes_and_json(healthy, root):
    ok = CliRunner().invoke(app, ["doctor", str(healthy), "--json", "--n", "64"])
    assert ok.exit_code == 0, ok.output
    answer = json.loads(ok.output)
    assert answer["healthy"] and answer["diagnoses"] == [] and answer["family"] == "images"
    sick = tiny_run(root, "lr-1e-1", "optim.g_lr=0.1", "optim.d_lr=0.1", "train.steps=100")
    text = CliRunner().invoke(app, ["doctor", str(sick), "--n", "64"])
    assert text.exit_code == 1
    assert text.output.splitlines()[1].startswith("1. [critical] learning rates far from the usual range")


def test_a_d_learning_rate_20x_gs_is_named_d_overpowering_g(root):
    report = examine(tiny_run(root, "d-lr-20x", "optim.d_lr=0.004"), n=128)
    assert [d.id for d in report.diagnoses][:2] == ["d_overpowers", "lr_range"], report.text()


def test_a_data_set_of_one_image_is_named_mode_collapse(root):
    folder = root / "one-image"
    folder.mkdir()
    from ganforge.data import build_dataset
    from ganforge.viz import to_pil

    to_pil(build_dataset("digits8")[0][0]).save(folder / "digit.png")
    report = examine(tiny_run(root, "one", f"data.name=folder:{folder}", "train.steps=200"), n=64)
    assert report.diagnoses[0].id == "mode_collapse" and report.diagnoses[0].severity == "critical"
    assert "single image" in report.diagnoses[0].seen


def test_a_slow_ema_is_named_ema_lag_with_the_measured_distance(root):
    report = examine(tiny_run(root, "ema", "train.ema_decay=0.9999", "train.ema_warmup=false",
                              "train.steps=200"), n=128)
    first = report.diagnoses[0]
    assert first.id == "ema_lag" and "Frechet distance" in first.seen and "initial weights" in first.seen


def test_spikes_then_nan_stop_the_run_and_the_doctor_says_so(root, monkeypatch):
    real_d_loss = losses_module.bce_d_loss
    calls = {"n": 0}

    def spiking(real: torch.Tensor, fake: torch.Tensor, real_label: float = 1.0) -> torch.Tensor:
        calls["n"] += 1
        loss = real_d_loss(real, fake, real_label)
        return loss * (torch.nan if calls["n"] >= 58 else 60.0 if calls["n"] in range(46, 50) else 1.0)

    monkeypatch.setattr(losses_module, "bce_d_loss", spiking)
    with pytest.raises(NonFiniteLossError):
        tiny_run(root, "nan", "train.steps=80", "train.log_every=2")
    report = examine(root / "nan", n=64)
    first = report.diagnoses[0]
    assert first.id == "diverged" and "step 58" in first.seen and "after loss spikes" in first.seen, report.text()


def test_other_families_get_the_curve_checks_and_are_told_what_does_not_apply(root):
    run = train(load_config("toy-ring", overrides=["train.steps=40", "train.log_every=5", "train.device=cpu",
                                                   "train.sample_every=20", "train.checkpoint_every=20"]),
                out=root / "toy", progress=False)
    report = examine(run)
    assert report.family == "toy2d" and report.checks["d_overpowers"] == "ran"
    assert "image runs" in report.checks["mode_collapse"]
