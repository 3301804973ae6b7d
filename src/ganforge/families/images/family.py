"""The noise-to-image family: unconditional and class-conditional GANs (MLP, DCGAN, ResNet, Keras DCGAN)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import torch

from ganforge.data import DATASET_DESCRIPTIONS, build_dataset
from ganforge.data.base import ImageDataset
from ganforge.data.clusters import MIN_CLUSTER_IMAGES, clusters_for, label_shares, self_conditioned
from ganforge.data.stream import BatchStream
from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, Family, SampleRequest, TrainingContext
from ganforge.families.images.config import ImagesConfig
from ganforge.families.images.evaluation import evaluate_generator, evaluation_callback, format_report
from ganforge.families.images.export import FORMATS, export_generator
from ganforge.families.images.generate import balanced_labels, generate, generator_from_state
from ganforge.families.images.model import ImageModel
from ganforge.families.images.serving import ROUTES
from ganforge.metrics.evaluate import METRIC_DESCRIPTIONS
from ganforge.nets import MODEL_DESCRIPTIONS, build_networks
from ganforge.parallel import World
from ganforge.recipes import GANRecipe, build_gan_recipe
from ganforge.run_folder import RunFolder
from ganforge.training.callbacks import SampleGrid, generator_images
from ganforge.viz import save_grid, save_images

GRID_NOISE_OFFSET = 7919  # the fixed preview noise is drawn from seed + this, apart from training noise
BEST_AFTER_MINUTES = 10.0  # a time budget this long affords evaluation during training to keep best.pt
BUDGET_EVAL_EVERY = 1000  # steps between those evaluations (2,000 images: about 5% of a CPU run's time)


def evaluation_every(config: ImagesConfig) -> int:
    """``eval.every``; when it is 0, evaluation still runs (keeping checkpoints/best.pt) in a run with a time
    budget of at least BEST_AFTER_MINUTES."""
    if config.eval.every:
        return config.eval.every
    minutes = config.train.minutes
    return BUDGET_EVAL_EVERY if minutes is not None and minutes >= BEST_AFTER_MINUTES else 0


def self_conditioning_clusters(config: ImagesConfig, n_images: int, say: bool = False, own_classes: int = 0) -> int:
    """The clusters self-conditioning uses for ``data.clusters`` on ``n_images`` (0: off); with ``say``, a
    note on stderr when that is not what was asked, or when the clusters replace the data's own labels."""
    asked = config.data.clusters
    if not asked:
        return 0
    if not getattr(config.model, "conditional", False):
        if say:
            arch = getattr(config.model, "arch", "?")
            print(f"note: data.clusters={asked} ignored: model.arch={arch} is unconditional here "
                  "(self-conditioning needs model.g_cond and model.d_cond)", file=sys.stderr)
        return 0
    clusters = clusters_for(asked, n_images)
    if say and clusters and own_classes >= 2:
        print(f"note: self-conditioning (data.clusters={asked}) labels the images by {clusters} clusters in place "
              f"of the data's own {own_classes} classes; --set data.clusters=0 trains on the data's labels",
              file=sys.stderr)
    if say and clusters != asked:
        print(f"note: data.clusters={asked} lowered to {clusters} for {n_images} images "
              f"(self-conditioning wants about {MIN_CLUSTER_IMAGES} images per cluster; 0 turns it off)",
              file=sys.stderr)
    return clusters


class ImagesFamily(Family):
    name = "images"
    description = "noise-to-image GANs, unconditional or class-conditional"
    config_class = ImagesConfig
    archs = tuple(MODEL_DESCRIPTIONS)
    sample_options = frozenset({"class_index"})
    output_suffixes = (".png", "/")
    export_formats = FORMATS
    supports_ddp = True
    default_eval_n = 5000

    def data_kinds(self) -> dict[str, str]:
        return dict(DATASET_DESCRIPTIONS)

    def model_kinds(self) -> dict[str, str]:
        return dict(MODEL_DESCRIPTIONS)

    def metric_kinds(self) -> dict[str, str]:
        return dict(METRIC_DESCRIPTIONS)

    # --- training ------------------------------------------------------------------------------------

    def build_data(self, config: ImagesConfig) -> ImageDataset:
        data = build_dataset(config.data.name, config.data.size, config.data.channels, config.data.root)
        clusters = self_conditioning_clusters(config, len(data), say=True, own_classes=data.num_classes)
        if clusters:
            return self_conditioned(data, clusters, config.train.seed, config.data.cluster_features)
        return data

    def fit_config(self, config: ImagesConfig, data: ImageDataset) -> ImagesConfig:
        """A conditional config with ``model.num_classes`` taken from the data (checked against it when set);
        ``data.clusters`` as self-conditioning really used it (lowered on small data, 0 when off, and then an
        unconditional model)."""
        if config.data.clusters:
            clusters = self_conditioning_clusters(config, len(data))
            config = config.with_section("data", clusters=clusters)
            if not clusters and getattr(config.model, "conditional", False):
                config = config.with_section("model", g_cond="none", d_cond="none")
        model = config.model
        if not getattr(model, "conditional", False):
            return config
        if data.num_classes < 2:
            raise GanforgeError(
                f"a conditional model needs labeled data, but {config.data.name} has no classes; use a labeled "
                "data set (digits, mnist, ...) or folder:PATH with one subfolder per class"
            )
        if model.num_classes not in (0, data.num_classes):
            raise GanforgeError(
                f"model.num_classes={model.num_classes} but {config.data.name} has {data.num_classes} classes; "
                "leave model.num_classes at 0 to take it from the data"
            )
        return config.with_section("model", num_classes=data.num_classes)

    def build_recipe(self, config: ImagesConfig, data: ImageDataset, device: torch.device) -> GANRecipe:
        generator, discriminator = build_networks(config.model, tuple(data.image_shape))
        recipe = build_gan_recipe(generator, discriminator, config.model.z_dim, config.loss, config.optim,
                                  config.train, device, config.data.diffaugment, config.data.ada,
                                  aux_classes=getattr(config.model, "d_cond", "none") == "acgan")
        if config.data.clusters:  # evaluation during training draws the clusters by their shares, as sampling does
            recipe.sampler.label_prior = torch.tensor(label_shares(data), dtype=torch.float64)
        return recipe

    def build_stream(self, config: ImagesConfig, data: ImageDataset, device: torch.device, world: World
                     ) -> BatchStream:
        return BatchStream(data, config.data.batch_size, config.train.seed, device, config.data.num_workers,
                           config.data.augment, world)

    def callbacks(self, context: TrainingContext) -> list[Any]:
        config, recipe = context.config, context.recipe
        callbacks: list[Any] = []
        if context.writes:
            seed = torch.Generator().manual_seed(config.train.seed + GRID_NOISE_OFFSET)
            noise = torch.randn(config.train.grid_size, config.model.z_dim, generator=seed).to(context.device)
            labels = balanced_labels(config.train.grid_size, recipe.num_classes)
            labels = None if labels is None else labels.to(context.device)  # one class per column
            callbacks.append(SampleGrid(context.run.samples, lambda: generator_images(recipe.sampler, noise, labels),
                                        config.train.sample_every, recipe.num_classes or None))
        every = evaluation_every(config)
        if every:  # every process evaluates its share of the images; rank 0 logs
            callbacks.append(evaluation_callback(context, recipe.sampler, every))
        return callbacks

    def checkpoint_info(self, config: ImagesConfig, data: ImageDataset) -> dict[str, Any]:
        info: dict[str, Any] = {"image_shape": list(data.image_shape)}
        if config.data.clusters:
            info["label_prior"] = label_shares(data)
        return info

    # --- using a run ---------------------------------------------------------------------------------

    def load(self, run: RunFolder, config: ImagesConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> ImageModel:
        generator = generator_from_state(config.model, state, device, ema)
        return ImageModel(generator, config.model, config.data.name, run.root, ema)

    def sample(self, model: ImageModel, request: SampleRequest) -> torch.Tensor:
        return generate(model.generator, request.n, request.seed, class_index=request.class_index)

    def write(self, samples: torch.Tensor, out: Path) -> str:
        if self.check_suffix(out) == ".png":
            save_grid(samples, out)
            return f"wrote a grid of {len(samples)} images to {out}"
        save_images(samples, out)
        return f"wrote {len(samples)} images to {out}/"

    def evaluate(self, run: RunFolder, model: ImageModel, request: EvalRequest) -> dict[str, Any]:
        n = request.n or self.default_eval_n
        source = f"{run.root} ({'EMA generator' if model.ema else 'generator'}, seed {request.seed})"
        return evaluate_generator(model.generator, source, model.data_name, request, n)

    def report(self, results: dict[str, Any]) -> str:
        return format_report(results)

    def export(self, model: ImageModel, fmt: str, out: Path) -> dict[str, Any]:
        return export_generator(model, fmt, out)

    def routes(self) -> list[Any]:
        return list(ROUTES)

    def describe(self, model: ImageModel) -> dict[str, Any]:
        g = model.generator
        return {"image_shape": list(g.image_shape), "z_dim": g.z_dim, "num_classes": getattr(g, "num_classes", 0)}
