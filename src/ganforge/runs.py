"""Runs: train a config into a run folder, resume one, and load one for inference. Family-agnostic:
everything that differs between kinds of GAN is asked of the run's family.

A run folder holds ``config.yaml`` (enough to reproduce the run), ``checkpoints/last.pt`` (the full
training state), ``samples/`` (the family's preview), ``metrics.jsonl`` and ``losses.png``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ganforge.config import RunConfig, load_yaml_file
from ganforge.devices import prepare_memory, resolve_amp, resolve_device
from ganforge.doctor.callback import DoctorWarnings
from ganforge.doctor.signals import EVENTS_FILE
from ganforge.errors import GanforgeError
from ganforge.families import family_of, validate
from ganforge.families.base import Family, SampleRequest, TrainingContext
from ganforge.parallel import broadcast_string, current_world, init_distributed, sync_batchnorm
from ganforge.run_folder import RunFolder, default_run_dir
from ganforge.training.budget import UNPLANNED_STEPS, TimeBudget
from ganforge.training.callbacks import LossPlot, MetricsLog, ProgressBar
from ganforge.training.checkpoint import load_checkpoint, seed_everything
from ganforge.training.threads import AdaptiveThreads
from ganforge.training.trainer import Callback, Trainer


def train(
    config: RunConfig,
    out: str | Path | None = None,
    steps: int | None = None,
    progress: bool = True,
    callbacks: Sequence[Callback] = (),
) -> Path:
    """Train a new run into ``out`` (which must not hold a run yet) and return its folder.

    ``callbacks`` are added to the trainer's own (progress bar, metrics log, preview, loss plot)."""
    run = RunFolder(Path(out) if out else default_run_dir(config.preset))
    if run.checkpoint.exists():
        raise GanforgeError(
            f"{run.root} already holds a run; continue it with `ganforge resume {run.root}` or pick another --out"
        )
    if steps is not None:  # an explicit step count wins over a time budget
        config = config.with_section("train", steps=steps, minutes=None)
    world = current_world()
    device = init_distributed(world, resolve_device(config.train.device))
    run = RunFolder(Path(broadcast_string(str(run.root), world)))  # one folder for every process
    auto_amp = config.train.amp == "auto"
    if auto_amp:  # chosen once and recorded, so that resume and --config repeat it
        config = config.with_section("train", amp=broadcast_string(resolve_amp("auto", device), world))
    minutes = getattr(config.train, "minutes", None)
    budget = [TimeBudget(minutes, world)] if minutes else []
    trainer, config = build_trainer(config, run, progress, [*budget, *callbacks])  # fails on bad data first
    if auto_amp and world.is_main:
        what = "bf16 autocast" if config.train.amp == "bf16" else "float32 (bf16 is not faster on this device)"
        print(f"note: train.amp=auto trains in {what} (train.amp={config.train.amp} in config.yaml)", file=sys.stderr)
    if world.is_main:
        run.root.mkdir(parents=True, exist_ok=True)
        run.config.write_text(config.to_yaml())
    if not budget:
        trainer.fit(config.train.steps)
        return run.root
    budget[0].on_plan = lambda total: trainer.extra_state["config"]["train"].update(steps=total)
    try:
        trainer.fit(UNPLANNED_STEPS)
    finally:  # also when stopped: config.yaml records the planned steps, which resume continues to
        if world.is_main and trainer.total_steps < UNPLANNED_STEPS:
            run.config.write_text(config.with_section("train", steps=trainer.total_steps).to_yaml())
    return run.root


def resume(run_dir: str | Path, steps: int | None = None, progress: bool = True,
           callbacks: Sequence[Callback] = ()) -> Path:
    """Continue a run from its last checkpoint to ``steps`` total steps (default: the config's)."""
    run = RunFolder(Path(run_dir)).checked()
    config = load_run_config(run.root)
    state = load_checkpoint(run.checkpoint, map_location=resolve_device(config.train.device))
    done = checkpoint_step(run.checkpoint, state)
    total = steps if steps is not None else config.train.steps
    if total < done:
        raise GanforgeError(f"{run.root} is already at step {done}; ask for --steps above that")
    config = config.with_section("train", steps=total)
    trainer, config = build_trainer(config, run, progress, callbacks)
    with unusable_checkpoint(run.checkpoint, family_of(config)):
        trainer.load_state_dict(state)
    warn_if_setup_differs(state)
    if current_world().is_main:
        run.config.write_text(config.to_yaml())
    trainer.fit(total)
    return run.root


def build_trainer(config: RunConfig, run: RunFolder, progress: bool = False,
                  callbacks: Sequence[Callback] = ()) -> tuple[Trainer, RunConfig]:
    """The trainer of a run, and its config fitted to the data by the family."""
    family = family_of(config)
    world = current_world()
    device = init_distributed(world, resolve_device(config.train.device))
    prepare_memory(config.train.reuse_cpu_memory, device)
    data = family.build_data(config)
    config = family.fit_config(config, data)
    seed_everything(config.train.seed)  # after the data: loading it may import modules that draw numbers
    recipe = family.build_recipe(config, data, device)
    if world.distributed:
        if not family.supports_ddp:
            raise GanforgeError(f"{family.name} runs train in one process; distributed training is not "
                                "supported for this family")
        if getattr(config.train, "sync_batchnorm", False):
            recipe.generator = sync_batchnorm(recipe.generator, world, device)
            recipe.discriminator = sync_batchnorm(recipe.discriminator, world, device)
        recipe.distribute(world)
    stream = family.build_stream(config, data, device, world)
    metrics = MetricsLog(run.metrics) if world.is_main else None
    context = TrainingContext(config, recipe, data, run, device, world, metrics, writes=world.is_main)
    own: list[Callback] = []
    if metrics is not None:  # only rank 0 writes files
        own = [ProgressBar(progress), metrics, LossPlot(run.loss_plot, metrics, config.train.sample_every)]
        if getattr(config.train, "doctor", True):
            own.append(DoctorWarnings(config.model_dump(mode="json"), run.root / EVENTS_FILE))
    if device.type == "cpu" and not world.distributed and getattr(config.train, "adapt_threads", False):
        own.append(AdaptiveThreads())  # not under DDP: sibling processes would count each other as busy
    own += family.callbacks(context)
    extra = {"config": config.model_dump(mode="json"), "threads": torch.get_num_threads(), "device": str(device),
             **family.checkpoint_info(config, data)}
    trainer = Trainer(recipe, stream, run.checkpoint, extra, [*own, *callbacks],
                      config.train.log_every, config.train.checkpoint_every, world)
    return trainer, config


def warn_if_setup_differs(state: dict[str, Any]) -> None:
    """Exact resume holds for the same device and intra-op thread count (they change the order of float sums);
    say so when a resume differs from the saved run."""
    saved = {"threads": state.get("threads"), "device": state.get("device")}
    now = {"threads": torch.get_num_threads(), "device": str(resolve_device(current_device_name(state)))}
    changed = [f"{k} {saved[k]} -> {now[k]}" for k in saved if saved[k] is not None and str(saved[k]) != str(now[k])]
    if changed and current_world().is_main:
        print(f"warning: resuming with another setup ({', '.join(changed)}): training continues correctly, but "
              "not bit-identically to an uninterrupted run", file=sys.stderr)


def current_device_name(state: dict[str, Any]) -> str:
    config = state.get("config") or {}
    return str((config.get("train") or {}).get("device", "auto"))


def load_run_config(run_dir: str | Path) -> RunConfig:
    run = RunFolder(Path(run_dir)).checked()
    return validate(load_yaml_file(run.config))


@dataclass
class LoadedRun:
    """A trained run ready for inference: its family, config and the family's model."""

    root: Path
    family: Family
    config: RunConfig
    model: Any
    checkpoint: Path
    step: int


def load_run(run_dir: str | Path, device: str | torch.device = "cpu", ema: bool = True,
             checkpoint: str = "last") -> LoadedRun:
    """Load a run's ``last`` (or ``best``) checkpoint into its family's inference model on ``device``."""
    run = RunFolder(Path(run_dir)).checked()
    config = load_run_config(run.root)
    family = family_of(config)
    path = run.checkpoint_file(checkpoint)
    device = resolve_device(device)
    state = load_checkpoint(path, map_location=device)
    step = checkpoint_step(path, state)
    with unusable_checkpoint(path, family):
        model = family.load(run, config, state, device, ema)
    return LoadedRun(run.root, family, config, model, path, step)


def checkpoint_step(path: Path, state: dict[str, Any]) -> int:
    """The step a checkpoint was saved at; a one-line error when it is not a ganforge checkpoint."""
    step = state.get("step")
    if not isinstance(step, int) or "recipe" not in state:
        raise GanforgeError(f"{path} is not a ganforge training checkpoint (no step or recipe state); "
                            "it may be damaged or written by another program")
    return step


@contextmanager
def unusable_checkpoint(path: Path, family: Family) -> Iterator[None]:
    """Turn a checkpoint whose contents do not fit the run's networks into a one-line error."""
    try:
        yield
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as exc:
        detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise GanforgeError(f"{path} does not fit this {family.name} run's config ({detail}); it may be damaged "
                            "or from another run") from None


def sample(run_dir: str | Path, n: int = 64, seed: int = 0, ema: bool = True, device: str | torch.device = "cpu",
           class_index: int | None = None, checkpoint: str = "last", **conditions: Any) -> Any:
    """``n`` samples from a run, in its family's form (images in [-1, 1] for image runs; points, rolls,
    texts, ... for the others). Conditions: ``class_index``, and ``prompt``, ``where``, ... where the
    family takes them."""
    loaded = load_run(run_dir, device, ema, checkpoint)
    request = SampleRequest(n=n, seed=seed, class_index=class_index, **conditions)
    loaded.family.check_conditions(request)
    return loaded.family.sample(loaded.model, request)
