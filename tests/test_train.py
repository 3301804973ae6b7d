"""Training runs end to end: exact resume, determinism, NaN guard, Ctrl-C, checkpoints, EMA, run folders.

Every run is tiny (8x8 digits, 8-channel networks, a few steps) except the one learning test.
"""

from __future__ import annotations

import json
import math
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image
from torch import nn
from train_helpers import SigintAt, assert_same_state, checkpoint_of

import ganforge.losses as losses
from ganforge import GanforgeError, generate, load_config, load_generator, resume, sample, train
from ganforge.config import load_yaml_file
from ganforge.data import build_dataset
from ganforge.ema import EMA
from ganforge.families import validate
from ganforge.nets import build_networks
from ganforge.training.checkpoint import load_checkpoint, save_checkpoint, seed_everything
from ganforge.training.trainer import NonFiniteLossError, TrainingInterrupted

pytestmark = pytest.mark.usefixtures("single_thread")



# --- helpers ---------------------------------------------------------------------------------------


def tensors_of(tree: Any) -> list[torch.Tensor]:
    if isinstance(tree, dict):
        return [t for v in tree.values() for t in tensors_of(v)]
    if isinstance(tree, (list, tuple)):
        return [t for v in tree for t in tensors_of(v)]
    return [tree] if isinstance(tree, torch.Tensor) else []


def any_differs(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return any(not torch.equal(a[k], b[k]) for k in a)


def read_metrics(run: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]


def assert_optimizer_state_is_full(state: dict[str, Any]) -> None:
    """The comparisons below are only meaningful if the optimizer states are really in the checkpoint."""
    recipe = state["recipe"]
    for net, opt in (("generator", "g_optimizer"), ("discriminator", "d_optimizer")):
        per_param = recipe[opt]["state"]
        buffers = ("running_mean", "running_var", "._u", "._v")  # BN statistics, spectral-norm vectors
        n_params = sum(1 for k, v in recipe[net].items() if v.is_floating_point() and not k.endswith(buffers))
        assert len(per_param) == n_params > 0
        assert all({"step", "exp_avg", "exp_avg_sq"} <= set(s) for s in per_param.values())


class Payload:
    """Not a tensor or a plain container: a checkpoint holding it must not be unpickled."""


# --- shared runs -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_config(tiny_config):
    return tiny_config()


@pytest.fixture(scope="module")
def base_run(base_config, tmp_path_factory, single_thread) -> Path:
    """A finished 6-step default (dcgan, bce) run. Read it, never change it."""
    return train(base_config, out=tmp_path_factory.mktemp("base") / "run", progress=False)


# --- 1. exact resume -------------------------------------------------------------------------------

RESUME_CASES = {
    "dcgan-bce": (),
    "wgan-gp-n_critic-2": ("loss.name=wgan-gp", "optim.n_critic=2", "model.d_batchnorm=false"),
    "augment-flip-rotate": ("data.augment=[flip,rotate]",),
    "diffaugment-r1": ("data.diffaugment=[color,translation,cutout]", "loss.r1_gamma=1.0"),
    "bf16-autocast-resnet-hinge": ("train.amp=bf16", "model.arch=resnet", "model.g_width=8", "model.d_width=8",
                                   "model.z_dim=16", "loss.name=hinge"),
    "conditional-cbn-projection-ada": ("model.g_cond=cbn", "model.d_cond=projection", "data.ada.enabled=true",
                                       "data.ada.speed_kimg=0.1", "data.ada.interval=1"),
    "conditional-acgan-wgan-gp": ("model.g_cond=concat", "model.d_cond=acgan", "loss.name=wgan-gp",
                                  "model.d_batchnorm=false"),
}


@pytest.mark.parametrize("extra", RESUME_CASES.values(), ids=RESUME_CASES.keys())
def test_resume_is_bit_exact(extra, tiny_config, tmp_path):
    cfg = tiny_config(*extra)
    full = train(cfg, out=tmp_path / "full", steps=6, progress=False)
    half = train(cfg, out=tmp_path / "half", steps=3, progress=False)
    assert checkpoint_of(half)["step"] == 3
    assert validate(load_yaml_file(half / "config.yaml")).train.steps == 3
    resume(half, steps=6, progress=False)

    a, b = checkpoint_of(full), checkpoint_of(half)
    assert a["step"] == b["step"] == 6
    assert a["data"]["position"] == 6 * cfg.optim.n_critic
    assert a["recipe"]["ema"] is not None
    assert_optimizer_state_is_full(a)
    assert_same_state(a, b)  # G, D, EMA, both Adam states, RNG, data position, config
    # resume records the new length, and the grids drawn from the fixed noise are the same pictures
    assert validate(load_yaml_file(half / "config.yaml")).train.steps == 6
    assert (full / "samples" / "step-0000006.png").read_bytes() == (half / "samples" / "step-0000006.png").read_bytes()


def test_resume_to_a_step_below_the_current_one_is_an_error(base_run):
    with pytest.raises(GanforgeError, match="already at step 6"):
        resume(base_run, steps=3, progress=False)


def test_resume_of_a_missing_folder_or_a_folder_without_a_run(tmp_path):
    with pytest.raises(GanforgeError, match="run folder not found"):
        resume(tmp_path / "nowhere", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GanforgeError, match="not a run folder"):
        resume(tmp_path / "empty", progress=False)


# --- 2. determinism --------------------------------------------------------------------------------


def test_same_seed_same_checkpoint_other_seed_other_weights(base_config, base_run, tiny_config, tmp_path):
    again = train(base_config, out=tmp_path / "again", progress=False)
    assert_same_state(checkpoint_of(base_run), checkpoint_of(again))

    other = checkpoint_of(train(tiny_config("train.seed=1"), out=tmp_path / "other", progress=False))
    base = checkpoint_of(base_run)
    for part in ("generator", "discriminator"):
        assert any_differs(base["recipe"][part], other["recipe"][part]), part
    assert any_differs(base["recipe"]["ema"]["model"], other["recipe"]["ema"]["model"])


def test_sample_same_seed_same_images(base_run):
    first = sample(base_run, 8, seed=0)
    assert first.shape == (8, 1, 8, 8) and first.dtype == torch.float32
    assert first.min() >= -1 and first.max() <= 1
    assert torch.equal(first, sample(base_run, 8, seed=0))
    assert not torch.equal(first, sample(base_run, 8, seed=1))
    assert not torch.equal(first, sample(base_run, 8, seed=0, ema=False))  # EMA and raw G differ


def test_generate_does_not_depend_on_the_batch_size(base_run):
    generator = load_generator(base_run)
    assert not generator.training
    whole = generate(generator, 10, seed=3)
    assert whole.shape == (10, 1, 8, 8)
    assert torch.allclose(whole, generate(generator, 10, seed=3, batch_size=3), atol=1e-6, rtol=0)
    with pytest.raises(GanforgeError, match="positive"):
        generate(generator, 0)


# --- 3. non-finite losses --------------------------------------------------------------------------

NAN_CASES = {
    # bad step, total steps, log_every, value; checkpoints every 3 steps
    "caught-at-log": (5, 6, 2, math.nan),
    "caught-at-checkpoint": (5, 8, 100, math.inf),
    "before-any-checkpoint": (2, 6, 2, math.nan),
}


@pytest.mark.parametrize(("bad_step", "steps", "log_every", "value"), NAN_CASES.values(), ids=NAN_CASES.keys())
def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(
    bad_step, steps, log_every, value, tiny_config, tmp_path, monkeypatch
):
    real_hinge = losses.hinge_d_loss
    calls = {"n": 0}

    def hinge_going_bad(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1  # one discriminator loss per step (n_critic = 1)
        loss = real_hinge(real, fake)
        return loss * value if calls["n"] >= bad_step else loss

    monkeypatch.setattr(losses, "hinge_d_loss", hinge_going_bad)
    cfg = tiny_config("loss.name=hinge", f"train.steps={steps}", f"train.log_every={log_every}")
    out = tmp_path / "run"
    with pytest.raises(NonFiniteLossError, match=rf"NaN or infinite at step {bad_step}\b") as caught:
        train(cfg, out=out, progress=False)
    assert calls["n"] >= bad_step  # the patch really was in use

    ckpt_file = out / "checkpoints" / "last.pt"
    good = (bad_step - 1) // 3 * 3  # last regular checkpoint before the bad step
    if good == 0:
        assert "no checkpoint had been saved yet" in str(caught.value)
        assert not ckpt_file.exists()
    else:
        assert f"last good checkpoint (step {good})" in str(caught.value)
        state = checkpoint_of(out)
        assert state["step"] == good < bad_step
        floats = [t for t in tensors_of(state["recipe"]) if t.is_floating_point()]
        assert floats and all(torch.isfinite(t).all() for t in floats)
    records = read_metrics(out)
    assert all(r["step"] < bad_step for r in records)
    assert all(math.isfinite(v) for r in records for v in r.values())


# --- 4. Ctrl-C -------------------------------------------------------------------------------------


def test_ctrl_c_saves_a_clean_step_and_resumes_exactly(base_config, base_run, tmp_path):
    handler_before = signal.getsignal(signal.SIGINT)
    out = tmp_path / "run"
    try:
        with pytest.raises(TrainingInterrupted, match=r"interrupted at step 4\b.*ganforge resume"):
            train(base_config, out=out, progress=False, callbacks=[SigintAt(step=4)])  # not a checkpoint step
    except KeyboardInterrupt:
        pytest.fail("the first Ctrl-C stopped training at once instead of at the end of the step")
    assert signal.getsignal(signal.SIGINT) is handler_before
    state = checkpoint_of(out)
    assert state["step"] == 4 and state["data"]["position"] == 4
    assert [r["step"] for r in read_metrics(out)] == [2, 4]

    resume(out, progress=False)
    assert_same_state(checkpoint_of(base_run), checkpoint_of(out))
    assert [r["step"] for r in read_metrics(out)] == [2, 4, 6]


def test_second_ctrl_c_stops_at_once_and_the_run_resumes_from_the_last_checkpoint(
    base_config, base_run, tmp_path
):
    handler_before = signal.getsignal(signal.SIGINT)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train(base_config, out=out, progress=False, callbacks=[SigintAt(step=5, times=2)])
    assert signal.getsignal(signal.SIGINT) is handler_before
    assert checkpoint_of(out)["step"] == 3  # nothing written for the step that was cut short
    assert [r["step"] for r in read_metrics(out)] == [2, 4]  # step 4 was logged past the checkpoint

    resume(out, progress=False)
    assert_same_state(checkpoint_of(base_run), checkpoint_of(out))
    steps = [r["step"] for r in read_metrics(out)]
    assert steps == [2, 4, 6]  # the stale step-4 record was replaced, not duplicated


# --- 5. checkpoint files ---------------------------------------------------------------------------


def test_checkpoint_holds_the_whole_training_state(base_config, base_run):
    folder = base_run / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt"]  # atomic write: no .tmp left
    state = torch.load(folder / "last.pt", weights_only=True)
    assert state["step"] == 6
    assert state["config"] == base_config.model_dump(mode="json")
    assert state["image_shape"] == [1, 8, 8]
    assert state["data"] == {"position": 6}
    assert {"python", "numpy", "torch"} <= set(state["rng"])
    assert set(state["recipe"]) >= {"generator", "discriminator", "g_optimizer", "d_optimizer", "ema"}
    assert_optimizer_state_is_full(state)
    ema = state["recipe"]["ema"]
    assert ema["num_updates"] == 6
    assert ema["model"].keys() == state["recipe"]["generator"].keys()


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoints" / "last.pt"
    save_checkpoint({"step": 1, "w": torch.ones(3)}, path)
    assert not path.with_name("last.pt.tmp").exists()

    def crash_midway(obj, handle, *args, **kwargs):
        handle.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(GanforgeError, match="disk full; the previous checkpoint is kept"):
        save_checkpoint({"step": 2, "w": torch.zeros(3)}, path)
    monkeypatch.undo()
    assert not path.with_name("last.pt.tmp").exists()  # the partial file is gone
    kept = load_checkpoint(path)
    assert kept["step"] == 1 and torch.equal(kept["w"], torch.ones(3))


def test_corrupt_missing_or_unsafe_checkpoints_are_user_errors(base_run, tmp_path):
    run = Path(shutil.copytree(base_run, tmp_path / "run"))
    ckpt = run / "checkpoints" / "last.pt"
    data = ckpt.read_bytes()

    ckpt.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(GanforgeError, match="cannot read checkpoint"):
        load_checkpoint(ckpt)
    with pytest.raises(GanforgeError, match="cannot read checkpoint"):
        load_generator(run)
    with pytest.raises(GanforgeError, match="cannot read checkpoint"):
        resume(run, progress=False)

    ckpt.write_bytes(b"not a checkpoint at all")
    with pytest.raises(GanforgeError, match="cannot read checkpoint"):
        load_checkpoint(ckpt)

    torch.save({"step": 1, "payload": Payload()}, ckpt)  # loading it would need to unpickle code
    with pytest.raises(GanforgeError, match="cannot read checkpoint"):
        load_checkpoint(ckpt)

    ckpt.unlink()
    with pytest.raises(GanforgeError, match="checkpoint not found"):
        load_checkpoint(ckpt)
    with pytest.raises(GanforgeError, match="checkpoint not found"):
        sample(run, 4)


# --- 6. training learns; every loss runs -----------------------------------------------------------


@pytest.mark.slow
def test_default_dcgan_learns_the_digits(tmp_path):
    """450 steps at 28x28 (about 9 s on one core): samples move from a flat grey towards the digits."""
    cfg = load_config("dcgan", overrides=[
        "data.name=digits", "data.batch_size=64", "model.g_width=16", "model.d_width=16",
        "train.steps=450", "train.log_every=50", "train.sample_every=450", "train.checkpoint_every=450",
        "train.grid_size=16", "train.device=cpu",
    ])
    real = build_dataset("digits").images.float() / 127.5 - 1
    real_mean, real_std = real.mean(0), real.std(0).mean()

    seed_everything(cfg.train.seed)
    initial, _ = build_networks(cfg.model, (1, 28, 28))
    initial.z_dim = cfg.model.z_dim
    before = generate(initial.eval(), 256, seed=1)
    run = train(cfg, out=tmp_path / "run", progress=False)
    after = generate(load_generator(run), 256, seed=1)

    dist_before = (before.mean(0) - real_mean).norm()
    dist_after = (after.mean(0) - real_mean).norm()
    assert dist_after < dist_before / 4, (dist_before, dist_after)  # measured: 22.7 -> 2.2..3.5
    spread = after.std(0).mean()
    assert spread > 0.5 * real_std, (spread, real_std)  # not collapsed to one image (measured 0.27 vs 0.39)
    assert all(math.isfinite(r["d_loss"]) and math.isfinite(r["g_loss"]) for r in read_metrics(run))


LOSS_CASES = {
    "bce-non-saturating": ("loss.name=bce", "loss.variant=non-saturating"),
    "bce-minimax": ("loss.name=bce", "loss.variant=minimax"),
    "bce-mse": ("loss.name=bce", "loss.variant=mse"),
    "bce-r1": ("loss.name=bce", "loss.r1_gamma=1.0"),
    "lsgan": ("loss.name=lsgan",),
    "wgan": ("loss.name=wgan", "model.d_batchnorm=false"),
    "wgan-gp": ("loss.name=wgan-gp", "model.d_batchnorm=false"),
    "hinge": ("loss.name=hinge",),
}


@pytest.mark.parametrize("extra", LOSS_CASES.values(), ids=LOSS_CASES.keys())
def test_every_loss_trains_with_finite_losses(extra, tiny_config, tmp_path):
    cfg = tiny_config(*extra, "train.steps=5", "train.log_every=1")
    run = train(cfg, out=tmp_path / "run", progress=False)
    records = read_metrics(run)
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]
    assert all(math.isfinite(v) for r in records for v in r.values())
    expected = {"gp"} if cfg.loss.name == "wgan-gp" else {"r1"} if cfg.loss.r1_gamma > 0 else set()
    assert {"gp", "r1"} & set(records[0]) == expected
    state = checkpoint_of(run)
    if cfg.loss.name == "wgan":  # weight clipping after every critic step
        assert all(t.abs().max() <= cfg.loss.clip for t in state["recipe"]["discriminator"].values()
                   if t.is_floating_point() and t.numel())


# --- 7. EMA ----------------------------------------------------------------------------------------


def test_ema_warmup_decay_values():
    ema = EMA(nn.Linear(2, 2), decay=0.999)
    for t, expected in [(0, 0.1), (1, 2 / 11), (10, 11 / 20), (90, 0.91), (10_000, 0.999), (10**7, 0.999)]:
        ema.num_updates = t
        assert ema.current_decay() == pytest.approx(expected)
    assert EMA(nn.Linear(2, 2), decay=0.9).current_decay() == pytest.approx(0.1)
    no_warmup = EMA(nn.Linear(2, 2), decay=0.999, warmup=False)
    assert no_warmup.current_decay() == 0.999


def test_ema_update_is_an_average_and_copies_buffers():
    model = nn.Sequential(nn.Linear(3, 3), nn.BatchNorm1d(3))
    ema = EMA(model, decay=0.75, warmup=False)
    start = {k: v.clone() for k, v in ema.shadow.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    model(torch.randn(8, 3))  # train mode: moves the BatchNorm running stats
    ema.update(model)
    assert not any(p.requires_grad for p in ema.shadow.parameters()) and not ema.shadow.training
    shadow = ema.shadow.state_dict()
    for name, p in model.named_parameters():
        assert torch.allclose(shadow[name], 0.75 * start[name] + 0.25 * p.detach(), atol=1e-6)
    for name, b in model.named_buffers():
        assert torch.equal(shadow[name], b)
    assert ema.num_updates == 1

    warm = EMA(model, decay=0.999)  # first update: decay (1 + 1) / (10 + 1)
    before = {k: v.clone() for k, v in warm.shadow.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(-1.0)
    warm.update(model)
    d = 2 / 11
    for name, p in model.named_parameters():
        assert torch.allclose(warm.shadow.state_dict()[name], d * before[name] + (1 - d) * p.detach(), atol=1e-6)


def test_ema_in_a_run(base_run, tiny_config, tmp_path):
    state = checkpoint_of(base_run)["recipe"]
    assert any_differs(state["ema"]["model"], state["generator"])
    assert_same_state(load_generator(base_run, ema=True).state_dict(), state["ema"]["model"])
    assert_same_state(load_generator(base_run, ema=False).state_dict(), state["generator"])

    follow = checkpoint_of(train(tiny_config("train.ema_decay=1e-9"), out=tmp_path / "tiny", progress=False))
    g, ema = follow["recipe"]["generator"], follow["recipe"]["ema"]["model"]
    for key in g:
        assert torch.allclose(ema[key].float(), g[key].float(), atol=1e-6, rtol=0), key


def test_without_ema_load_generator_falls_back_to_g(tiny_config, tmp_path):
    run = train(tiny_config("train.ema_decay=0"), out=tmp_path / "run", progress=False)
    state = checkpoint_of(run)["recipe"]
    assert state["ema"] is None
    assert_same_state(load_generator(run, ema=True).state_dict(), state["generator"])
    assert torch.equal(sample(run, 4, seed=2), sample(run, 4, seed=2, ema=False))


# --- 8. run folder ---------------------------------------------------------------------------------


def test_run_folder_contents(base_config, base_run):
    assert validate(load_yaml_file(base_run / "config.yaml")) == base_config
    samples = base_run / "samples"
    assert sorted(p.name for p in samples.iterdir()) == ["latest.png", "step-0000003.png", "step-0000006.png"]
    assert (samples / "latest.png").read_bytes() == (samples / "step-0000006.png").read_bytes()
    with Image.open(samples / "latest.png") as grid:
        assert grid.size == (22, 22)  # 4 images of 8x8 in 2 rows, 2 px padding
    with Image.open(base_run / "losses.png") as plot:
        assert plot.format == "PNG" and plot.size[0] > 100
    records = read_metrics(base_run)
    assert [r["step"] for r in records] == [2, 4, 6]
    for record in records:
        assert {"step", "d_loss", "g_loss", "d_real", "d_fake", "images_per_sec"} <= set(record)
        assert record["images_per_sec"] > 0


def test_resume_appends_metrics_without_duplicates(tiny_config, tmp_path):
    run = train(tiny_config("train.log_every=1"), out=tmp_path / "run", steps=4, progress=False)
    resume(run, steps=7, progress=False)
    steps = [r["step"] for r in read_metrics(run)]
    assert steps == list(range(1, 8))
    assert (run / "samples" / "step-0000006.png").is_file() and (run / "samples" / "step-0000007.png").is_file()


def test_train_into_a_folder_holding_a_run_is_an_error(base_run, tiny_config):
    config_before = (base_run / "config.yaml").read_bytes()
    with pytest.raises(GanforgeError, match="already holds a run"):
        train(tiny_config("train.seed=5"), out=base_run, progress=False)
    assert (base_run / "config.yaml").read_bytes() == config_before


# --- regressions: bugs found and fixed -------------------------------------------------------------


def test_train_refuses_a_non_positive_step_count(tiny_config, tmp_path):
    with pytest.raises(GanforgeError):
        train(tiny_config(), out=tmp_path / "run", steps=0, progress=False)


def test_a_huge_seed_is_refused_as_a_user_error(tiny_config, tmp_path):
    with pytest.raises(GanforgeError):
        train(tiny_config("train.seed=20000000000000"), out=tmp_path / "run", progress=False)


def test_sample_accepts_the_auto_device(base_run):
    assert sample(base_run, 2, device="auto").shape == (2, 1, 8, 8)


def test_compile_trains_like_eager(tmp_path):
    """train.compile=true (torch.compile of G and D, in place) gives the eager run's weights; the EMA sampler
    stays an eager copy, and checkpoints keep their plain keys."""
    extra = ["model.arch=mlp", "model.z_dim=8", "model.g_hidden=[16]", "model.d_hidden=[16]", "data.name=digits8",
             "data.batch_size=16", "train.steps=3", "train.checkpoint_every=3", "train.sample_every=3",
             "train.log_every=3", "train.grid_size=4", "train.device=cpu"]
    eager = train(load_config("dcgan", overrides=extra), out=tmp_path / "eager", progress=False)
    compiled = train(load_config("dcgan", overrides=[*extra, "train.compile=true"]), out=tmp_path / "compiled",
                     progress=False)
    a, b = checkpoint_of(eager)["recipe"], checkpoint_of(compiled)["recipe"]
    for net in ("generator", "discriminator"):
        assert a[net].keys() == b[net].keys()
        for key in a[net]:
            assert torch.allclose(a[net][key], b[net][key], atol=1e-5), (net, key)
