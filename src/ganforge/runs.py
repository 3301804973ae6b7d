"""Runs: train into a run folder, resume one, and draw samples from one.

A run folder holds ``config.yaml`` (enough to reproduce the run), ``checkpoints/last.pt`` (the full
training state), ``samples/`` (grids from a fixed noise batch), ``metrics.jsonl`` and ``losses.png``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.config import Config, load_yaml_file, validate
from ganforge.data import build_dataset
from ganforge.data.base import ImageDataset
from ganforge.data.stream import BatchStream
from ganforge.errors import GanforgeError
from ganforge.nets import build_networks, is_translation
from ganforge.nets.translation import min_patch_size
from ganforge.recipes import TranslationRecipe, build_recipe
from ganforge.training.callbacks import (
    Evaluation,
    LossPlot,
    MetricsLog,
    ProgressBar,
    SampleGrid,
    generator_images,
)
from ganforge.training.checkpoint import load_checkpoint, seed_everything
from ganforge.training.cpu_memory import keep_freed_memory
from ganforge.training.distributed import (
    broadcast_string,
    current_world,
    gather_in_rank_order,
    init_distributed,
    sync_batchnorm,
)
from ganforge.training.trainer import Trainer

GRID_NOISE_OFFSET = 7919  # the fixed sample-grid noise is drawn from seed + this, apart from training noise


@dataclass(frozen=True)
class RunFolder:
    """Where each file of a run lives."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.yaml"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoints" / "last.pt"

    @property
    def best_checkpoint(self) -> Path:
        return self.root / "checkpoints" / "best.pt"

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def loss_plot(self) -> Path:
        return self.root / "losses.png"


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GanforgeError(f"unknown device '{name}': use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanforgeError(f"device '{name}' asked for, but this machine has no CUDA GPU: use --device cpu")
    return device


def default_run_dir(config: Config) -> Path:
    return Path("runs") / f"{config.preset or 'custom'}-{time.strftime('%Y%m%d-%H%M%S')}"


def train(
    config: Config,
    out: str | Path | None = None,
    steps: int | None = None,
    progress: bool = True,
) -> Path:
    """Train a new run into ``out`` (which must not hold a run yet) and return its folder."""
    run = RunFolder(Path(out) if out else default_run_dir(config))
    if run.checkpoint.exists():
        raise GanforgeError(
            f"{run.root} already holds a run; continue it with `ganforge resume {run.root}` or pick another --out"
        )
    if steps is not None:
        config = with_steps(config, steps)
    world = current_world()
    init_distributed(world, resolve_device(config.train.device))
    run = RunFolder(Path(broadcast_string(str(run.root), world)))  # one folder for every process
    trainer, config = _build_trainer(config, run, progress)  # fails on bad data before anything is written
    if world.is_main:
        run.root.mkdir(parents=True, exist_ok=True)
        run.config.write_text(config.to_yaml())
    trainer.fit(config.train.steps)
    return run.root


def resume(run_dir: str | Path, steps: int | None = None, progress: bool = True) -> Path:
    """Continue a run from its last checkpoint to ``steps`` total steps (default: the config's)."""
    run = RunFolder(Path(run_dir))
    config = load_run_config(run.root)
    state = load_checkpoint(run.checkpoint, map_location=resolve_device(config.train.device))
    total = steps if steps is not None else config.train.steps
    if total < state["step"]:
        raise GanforgeError(f"{run.root} is already at step {state['step']}; ask for --steps above that")
    config = with_steps(config, total)
    trainer, config = _build_trainer(config, run, progress)
    if current_world().is_main:
        run.config.write_text(config.to_yaml())
    trainer.load_state_dict(state)
    trainer.fit(total)
    return run.root


def with_steps(config: Config, steps: int) -> Config:
    """The same config with another ``train.steps``, validated."""
    data = config.model_dump(mode="json")
    data["train"]["steps"] = steps
    return validate(data)


def resolve_for_data(config: Config, dataset: ImageDataset) -> Config:
    """The config with what the data decides filled in: class count, or translation channels."""
    if is_translation(config.model):
        return with_pair_channels(config, dataset)
    return with_data_classes(config, dataset)


def with_pair_channels(config: Config, dataset: ImageDataset) -> Config:
    """A pix2pix / cyclegan config with ``model.a_channels`` and ``b_channels`` taken from the pairs."""
    pair = getattr(dataset, "pair_channels", None)
    if pair is None:
        raise GanforgeError(
            f"{config.model.arch} translates images: it needs paired or two-domain data, not {config.data.name}; "
            "use colorize-photos, digit-styles, paired:PATH, colorize:PATH or unpaired:PATH_A,PATH_B"
        )
    side = dataset.image_shape[1]
    need = min_patch_size(config.model)
    if side < need or side % (need if config.model.generator == "unet" else 4):
        raise GanforgeError(
            f"{config.model.arch} with these settings needs training images whose side is a multiple of {need} "
            f"(got {side}); set data.size (e.g. {max(need, 32)}) or model.unet_depth"
        )
    if config.eval.every:
        raise GanforgeError("eval.every is for noise-to-image GANs; translation runs are measured with "
                            "benchmarks/translation.py")
    data = config.model_dump(mode="json")
    data["model"]["a_channels"], data["model"]["b_channels"] = pair
    return validate(data)


def with_data_classes(config: Config, dataset: ImageDataset) -> Config:
    """A conditional config with ``model.num_classes`` taken from the data (checked against it when set)."""
    model = config.model
    if not getattr(model, "conditional", False):
        return config
    if dataset.num_classes < 2:
        raise GanforgeError(
            f"a conditional model needs labeled data, but {config.data.name} has no classes; use a labeled data "
            "set (digits, mnist, ...) or folder:PATH with one subfolder per class"
        )
    if model.num_classes not in (0, dataset.num_classes):
        raise GanforgeError(
            f"model.num_classes={model.num_classes} but {config.data.name} has {dataset.num_classes} classes; "
            "leave model.num_classes at 0 to take it from the data"
        )
    data = config.model_dump(mode="json")
    data["model"]["num_classes"] = dataset.num_classes
    return validate(data)


def prepare_memory(config: Config, device: torch.device) -> None:
    """What training does to memory before it starts: on the CPU, keep freed memory for reuse unless
    ``train.reuse_cpu_memory`` is off."""
    if device.type == "cpu" and config.train.reuse_cpu_memory:
        keep_freed_memory()


def _build_trainer(config: Config, run: RunFolder, progress: bool) -> tuple[Trainer, Config]:
    """The trainer of a run, and its config resolved against the data (class count)."""
    world = current_world()
    device = init_distributed(world, resolve_device(config.train.device))
    prepare_memory(config, device)
    dataset = build_dataset(config.data.name, config.data.size, config.data.channels, config.data.root)
    config = resolve_for_data(config, dataset)
    seed_everything(config.train.seed)  # after the data: loading it may import modules that draw numbers
    image_shape = tuple(dataset.image_shape)
    recipe = build_recipe(config, image_shape, device)
    if world.distributed:
        if isinstance(recipe, TranslationRecipe):
            raise GanforgeError(f"{config.model.arch} trains in one process; distributed training is for the "
                                "noise-to-image GANs")
        if config.train.sync_batchnorm:
            recipe.generator = sync_batchnorm(recipe.generator, world, device)
            recipe.discriminator = sync_batchnorm(recipe.discriminator, world, device)
        recipe.distribute(world)
    stream = BatchStream(dataset, config.data.batch_size, config.train.seed, device,
                         config.data.num_workers, config.data.augment, world)
    callbacks: list[Any] = []
    metrics = None
    if world.is_main:  # only rank 0 writes files
        metrics = MetricsLog(run.metrics)
        callbacks = [
            ProgressBar(progress),
            metrics,
            _sample_grid(config, recipe, dataset, run, device),
            LossPlot(run.loss_plot, metrics, config.train.sample_every),
        ]
    if config.eval.every:  # every process evaluates its share of the images; rank 0 logs
        callbacks.append(_evaluation_callback(config, image_shape, recipe.sampler, run, metrics, device))
    extra = {"config": config.model_dump(mode="json"), "image_shape": list(image_shape)}
    trainer = Trainer(recipe, stream, run.checkpoint, extra, callbacks,
                      config.train.log_every, config.train.checkpoint_every, world)
    return trainer, config


PREVIEW_ROWS = 8  # translation grids: this many fixed training pairs, one per row


def _sample_grid(config: Config, recipe: Any, dataset: ImageDataset, run: RunFolder, device: torch.device
                 ) -> SampleGrid:
    every = config.train.sample_every
    if isinstance(recipe, TranslationRecipe):
        batch = dataset.images[:PREVIEW_ROWS].to(device).float() / 127.5 - 1
        columns = len(recipe.preview(batch[:1]))
        return SampleGrid(run.samples, lambda: recipe.preview(batch), every, nrow=columns)
    noise = torch.randn(config.train.grid_size, config.model.z_dim,
                        generator=torch.Generator().manual_seed(config.train.seed + GRID_NOISE_OFFSET)).to(device)
    labels = balanced_labels(config.train.grid_size, recipe.num_classes)
    if labels is None:
        return SampleGrid(run.samples, lambda: generator_images(recipe.sampler, noise), every)
    labels = labels.to(device)  # one class per column
    return SampleGrid(run.samples, lambda: generator_images(recipe.sampler, noise, labels), every, recipe.num_classes)


EVAL_SEED = 104729  # the noise of in-training evaluations: fixed, and apart from the training noise


def _evaluation_callback(
    config: Config, image_shape: tuple[int, ...], network: nn.Module, run: RunFolder, log: MetricsLog | None,
    device: torch.device,
) -> Evaluation:
    from ganforge.metrics.evaluate import evaluate_images, flatten_scores, parse_metrics, score_keys
    from ganforge.metrics.extractors import build_extractor, default_extractor_name

    settings = config.eval
    metrics = parse_metrics(settings.metrics)
    if settings.best is not None and settings.best not in score_keys(metrics):
        raise GanforgeError(
            f"eval.best={settings.best} is not among the scores of eval.metrics={','.join(metrics)} "
            f"(they give: {', '.join(score_keys(metrics))})"
        )
    name = default_extractor_name(image_shape) if settings.extractor == "auto" else settings.extractor
    extractor = build_extractor(name, settings.weights)
    against = settings.against or config.data.name

    world = current_world()

    def gather(extracted: tuple[Tensor, Tensor | None]) -> tuple[Tensor, Tensor | None]:
        parts = gather_in_rank_order(extracted, world)  # each process extracted its share of the images
        logits = [p[1] for p in parts]
        return torch.cat([p[0] for p in parts]), None if logits[0] is None else torch.cat(logits)

    def evaluate(generator: nn.Module) -> dict[str, float]:
        images = generate(generator, settings.n, EVAL_SEED, share=(world.rank, world.size))
        results = evaluate_images(images, against, extractor, metrics, settings.n, device=device,
                                  gather=gather if world.distributed else None)
        return flatten_scores(results)

    return Evaluation(network, evaluate, settings.every, settings.best, run.best_checkpoint, log,
                      writer=world.is_main)


def load_run_config(run_dir: str | Path) -> Config:
    run = RunFolder(Path(run_dir))
    if not run.root.is_dir():
        raise GanforgeError(f"run folder not found: {run.root}")
    if not run.config.is_file():
        raise GanforgeError(f"{run.root} is not a run folder (no config.yaml); train one with `ganforge train`")
    return validate(load_yaml_file(run.config))


def load_generator(run_dir: str | Path, ema: bool = True, device: str | torch.device = "cpu") -> nn.Module:
    """The trained generator of a run (the EMA copy by default), in eval mode, on ``device`` (or "auto")."""
    device = resolve_device(device) if isinstance(device, str) else device
    run = RunFolder(Path(run_dir))
    config = load_run_config(run.root)
    if is_translation(config.model):
        raise GanforgeError(f"{run.root} is a {config.model.arch} run: it translates images, use "
                            f"`ganforge translate {run.root} --input FILE_OR_DIR --out DIR`")
    state = load_checkpoint(run.checkpoint, map_location=device)
    generator, _ = build_networks(config.model, tuple(state["image_shape"]))
    recipe_state: dict[str, Any] = state["recipe"]
    use_ema = ema and recipe_state.get("ema") is not None
    generator.load_state_dict(recipe_state["ema"]["model"] if use_ema else recipe_state["generator"])
    generator.z_dim = config.model.z_dim
    return generator.to(device).eval()


def balanced_labels(n: int, num_classes: int) -> Tensor | None:
    """``0, 1, ..., K-1, 0, 1, ...`` (``n`` labels), or None for an unconditional model (``K`` = 0)."""
    return torch.arange(n) % num_classes if num_classes else None


def class_labels(generator: nn.Module, n: int, class_index: int | None) -> Tensor | None:
    """The labels ``generate`` uses: all ``class_index``, or balanced over the classes when it is None."""
    num_classes = getattr(generator, "num_classes", 0)
    if class_index is None:
        return balanced_labels(n, num_classes)
    if not num_classes:
        raise GanforgeError(
            "this run is unconditional, so it cannot make a chosen class; train a conditional one "
            "(e.g. `ganforge train cond-dcgan`)"
        )
    if not 0 <= class_index < num_classes:
        raise GanforgeError(f"class {class_index} is out of range: this model makes classes 0 to {num_classes - 1}")
    return torch.full((n,), class_index, dtype=torch.int64)


@torch.no_grad()
def generate(
    generator: nn.Module, n: int, seed: int = 0, batch_size: int = 256, class_index: int | None = None,
    share: tuple[int, int] = (0, 1),
) -> Tensor:
    """``n`` images in [-1, 1] from noise drawn with ``seed`` (same seed, same images), on the CPU.

    A class-conditional generator makes class ``class_index``, or all classes in turn when it is None.
    ``share=(k, K)`` makes only the k-th of K consecutive parts of those ``n`` images (distributed use).
    """
    if n <= 0:
        raise GanforgeError(f"the number of images must be positive, got {n}")
    labels = class_labels(generator, n, class_index)
    device = next(generator.parameters()).device
    noise = torch.randn(n, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    index, parts = share
    noise = noise.tensor_split(parts)[index]
    labels = None if labels is None else labels.tensor_split(parts)[index]
    label_parts = labels.split(batch_size) if labels is not None else [None] * len(noise.split(batch_size))
    chunks = [
        generator(part.to(device), None if y is None else y.to(device)).float().cpu()
        for part, y in zip(noise.split(batch_size), label_parts, strict=True)
    ]
    return torch.cat(chunks)


def sample(
    run_dir: str | Path,
    n: int = 64,
    seed: int = 0,
    ema: bool = True,
    device: str | torch.device = "cpu",
    class_index: int | None = None,
) -> Tensor:
    """``n`` images in [-1, 1] from a run's generator (of class ``class_index`` for a conditional run)."""
    return generate(load_generator(run_dir, ema, device), n, seed, class_index=class_index)
