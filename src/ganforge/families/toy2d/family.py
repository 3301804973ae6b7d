"""The toy 2D family: mixtures of Gaussians, MLP G and D (optionally packed), scatter plots and mode coverage."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from ganforge.data.stream import BatchStream, prepare_tensors
from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, Family, Reply, Route, SampleRequest, TrainingContext
from ganforge.families.toy2d import metrics
from ganforge.families.toy2d.config import Toy2DConfig
from ganforge.families.toy2d.data import MIXTURES, POINTS_PREFIX, PointSet, build_points, mixture_points
from ganforge.families.toy2d.model import PointModel, generate_points, load_point_model
from ganforge.families.toy2d.nets import PackedDiscriminator, PointGenerator
from ganforge.families.toy2d.plots import scatter_png, write_csv
from ganforge.parallel import World
from ganforge.recipes import GANRecipe, build_gan_recipe
from ganforge.run_folder import RunFolder
from ganforge.training.callbacks import Preview

PREVIEW_POINTS = 2500
PREVIEW_SEED_OFFSET = 7919
REFERENCE_SEED = 99


class Toy2DFamily(Family):
    name = "toy2d"
    description = "2D mixtures of Gaussians: the mode-collapse test (VEEGAN, PacGAN), scatter plots and CSV"
    config_class = Toy2DConfig
    archs = ("toy-mlp",)
    output_suffixes = (".png", ".csv")
    default_eval_n = metrics.EVAL_SAMPLES

    def data_kinds(self) -> dict[str, str]:
        return {**{name: text for name, (text, _) in MIXTURES.items()},
                POINTS_PREFIX + "PATH": "your own 2D points: a CSV with columns x,y"}

    def model_kinds(self) -> dict[str, str]:
        return {"toy-mlp": "2D points: MLP G and D; model.pack=K makes D judge K samples together (PacGAN)"}

    def metric_kinds(self) -> dict[str, str]:
        return {"modes": "toy2d: modes covered (>= 20 of 2,500 samples within 3 std) and high-quality share"}

    # --- training ------------------------------------------------------------------------------------

    def build_data(self, config: Toy2DConfig) -> PointSet:
        return build_points(config.data.name)

    def fit_config(self, config: Toy2DConfig, data: PointSet) -> Toy2DConfig:
        if config.data.batch_size % config.model.pack:
            raise GanforgeError(f"model.pack={config.model.pack} needs data.batch_size to be a multiple of it "
                                f"(got {config.data.batch_size})")
        return config

    def build_recipe(self, config: Toy2DConfig, data: PointSet, device: torch.device) -> GANRecipe:
        m = config.model
        generator = PointGenerator(m.z_dim, m.g_width, m.g_layers)
        discriminator = PackedDiscriminator(m.d_width, m.d_layers, m.pack)
        return build_gan_recipe(generator, discriminator, m.z_dim, config.loss, config.optim, config.train, device)

    def build_stream(self, config: Toy2DConfig, data: PointSet, device: torch.device, world: World) -> BatchStream:
        def prepare(batch: torch.Tensor, target: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
            points = prepare_tensors(batch, target)
            return points, torch.zeros(points.shape[0], dtype=torch.int64, device=target)

        return BatchStream(data, config.data.batch_size, config.train.seed, device, config.data.num_workers,
                           world=world, collate=lambda x: x, prepare=prepare)

    def callbacks(self, context: TrainingContext) -> list[Any]:
        if not context.writes:
            return []
        config, recipe, centres = context.config, context.recipe, context.data.centres
        seed = torch.Generator().manual_seed(config.train.seed + PREVIEW_SEED_OFFSET)
        noise = torch.randn(PREVIEW_POINTS, config.model.z_dim, generator=seed).to(context.device)

        @torch.no_grad()
        def write(stem: Path) -> list[Path]:
            sampler = recipe.sampler
            was_training = sampler.training
            sampler.eval()
            points = sampler(noise).float().cpu()
            sampler.train(was_training)
            return [scatter_png(points, stem.with_suffix(".png"), centres, stem.name)]

        return [Preview(context.run.samples, write, config.train.sample_every)]

    def checkpoint_info(self, config: Toy2DConfig, data: PointSet) -> dict[str, Any]:
        return {"centres": None if data.centres is None else data.centres.tolist(), "mode_std": data.std}

    # --- using a run ---------------------------------------------------------------------------------

    def load(self, run: RunFolder, config: Toy2DConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> PointModel:
        return load_point_model(config, state, device, ema)

    def sample(self, model: PointModel, request: SampleRequest) -> torch.Tensor:
        return generate_points(model, request.n, request.seed)

    def write(self, samples: torch.Tensor, out: Path) -> str:
        if self.check_suffix(out) == ".csv":
            write_csv(samples, out)
            return f"wrote {len(samples)} points to {out} (columns x,y)"
        scatter_png(samples, out)
        return f"wrote a scatter plot of {len(samples)} points to {out}"

    def evaluate(self, run: RunFolder, model: PointModel, request: EvalRequest) -> dict[str, Any]:
        if model.centres is None:
            raise GanforgeError("mode coverage needs known modes: this run was trained on points:PATH data")
        n = request.n or self.default_eval_n
        real = mixture_points(model.centres, n, REFERENCE_SEED, model.mode_std)
        spread = real.std(dim=0, keepdim=True)  # naive baseline: one Gaussian fitted to the data
        naive = real.mean(dim=0, keepdim=True) + spread * torch.randn(n, 2, generator=torch.Generator().manual_seed(1))
        return {
            "gan": metrics.mode_statistics(generate_points(model, n, request.seed), model.centres, model.mode_std),
            "reference_real": metrics.mode_statistics(real, model.centres, model.mode_std),
            "reference_one_gaussian": metrics.mode_statistics(naive, model.centres, model.mode_std),
            "protocol": metrics.protocol(n, model.mode_std, request.seed),
        }

    def report(self, results: dict[str, Any]) -> str:
        lines = [f"{'':<24} {'modes covered':>14} {'high quality':>13}"]
        for key in ("gan", "reference_real", "reference_one_gaussian"):
            r = results[key]
            lines.append(f"{key:<24} {r['modes_covered']:>9} / {r['modes_total']:<2} {r['high_quality']:>13.3f}")
        p = results["protocol"]
        lines.append(f"protocol: {p['samples']} samples (seed {p['seed']}); high quality = {p['high_quality']}; "
                     f"covered = {p['covered']}")
        return "\n".join(lines)

    def routes(self) -> list[Route]:
        return [Route("generate", scatter_reply, ScatterRequest, output="image", label="Generate points")]

    def describe(self, model: PointModel) -> dict[str, Any]:
        return {"modes": 0 if model.centres is None else len(model.centres)}


class ScatterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(2500, ge=1, le=20_000, description="points, at most 20,000")
    seed: int = Field(0, ge=0, lt=2**31)


def scatter_reply(model: PointModel, request: ScatterRequest) -> Reply:
    buffer = io.BytesIO()
    scatter_png(generate_points(model, request.n, request.seed), buffer, model.centres)
    return Reply(buffer.getvalue(), "image/png")

