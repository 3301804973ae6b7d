"""The tabular family: CSV tables in, synthetic CSV rows out (CTGAN-class GAN)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, Family, Route, SampleRequest, TrainingContext
from ganforge.families.tabular.config import TabularConfig
from ganforge.families.tabular.data import TabularData, build_tabular_data, summary
from ganforge.families.tabular.datasets import table_descriptions
from ganforge.families.tabular.evaluation import METRIC_DESCRIPTIONS, evaluate_table, format_table_report
from ganforge.families.tabular.generate import TabularModel, generate_rows
from ganforge.families.tabular.io import write_csv
from ganforge.families.tabular.recipe import CTGANRecipe, build_generator
from ganforge.families.tabular.sampler import CondIndex, ConditionalStream
from ganforge.families.tabular.serving import TableRequest, generate_csv
from ganforge.families.tabular.transform import TableTransform
from ganforge.parallel import World
from ganforge.run_folder import RunFolder
from ganforge.training.callbacks import Preview
from ganforge.training.trainer import Callback, Trainer

PREVIEW_ROWS = 20
PREVIEW_SEED = 7919
SCHEMA_FILE = "schema.json"


class TabularFamily(Family):
    name = "tabular"
    description = "tables: a CTGAN-class GAN for CSV data (mode-specific normalization, training-by-sampling)"
    config_class = TabularConfig
    archs = ("ctgan",)
    sample_options = frozenset({"where"})
    output_suffixes = (".csv",)
    default_eval_n = 5000

    def data_kinds(self) -> dict[str, str]:
        return table_descriptions()

    def model_kinds(self) -> dict[str, str]:
        return {"ctgan": "tables: residual G, packed D (PacGAN), WGAN-GP, conditional vector with training-by-sampling"}

    def metric_kinds(self) -> dict[str, str]:
        return dict(METRIC_DESCRIPTIONS)

    # --- training ------------------------------------------------------------------------------------

    def build_data(self, config: TabularConfig) -> TabularData:
        return build_tabular_data(config)

    def fit_config(self, config: TabularConfig, data: TabularData) -> TabularConfig:
        if config.data.batch_size % config.model.pac:
            raise GanforgeError(f"model.pac={config.model.pac} needs data.batch_size to be a multiple of it "
                                f"(got {config.data.batch_size})")
        return config

    def build_recipe(self, config: TabularConfig, data: TabularData, device: torch.device) -> CTGANRecipe:
        return CTGANRecipe(config, data.transform, device, data.target)

    def build_stream(self, config: TabularConfig, data: TabularData, device: torch.device,
                     world: World) -> ConditionalStream:
        return ConditionalStream(data.encoded, data.index, config.data.batch_size, config.train.seed, device)

    def callbacks(self, context: TrainingContext) -> list[Callback]:
        if not context.writes:
            return []
        data: TabularData = context.data
        recipe: CTGANRecipe = context.recipe

        def write(stem: Path) -> list[Path]:
            model = TabularModel(recipe.sampler, data.transform, data.index, data.name, context.run.root)
            path = stem.with_suffix(".csv")
            write_csv(generate_rows(model, PREVIEW_ROWS, PREVIEW_SEED), path)
            return [path]

        return [SchemaFile(context.run.root / SCHEMA_FILE, data),
                Preview(context.run.samples, write, context.config.train.sample_every)]

    def checkpoint_info(self, config: TabularConfig, data: TabularData) -> dict[str, Any]:
        index = data.index
        return {"tabular": {
            "transform": data.transform.to_dict(),
            "cond_counts": index.counts.tolist() if index is not None else [],
            "cond_widths": index.widths.tolist() if index is not None else [],
        }}

    # --- using a run ---------------------------------------------------------------------------------

    def load(self, run: RunFolder, config: TabularConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> TabularModel:
        info = state.get("tabular")
        if info is None:
            raise GanforgeError(f"{run.root}: the checkpoint has no table transform; it is not a tabular run")
        transform = TableTransform.from_dict(info["transform"])
        generator = build_generator(config, transform).to(device)
        recipe_state = state["recipe"]
        use_ema = ema and recipe_state.get("ema") is not None
        generator.load_state_dict(recipe_state["ema"]["model"] if use_ema else recipe_state["generator"])
        generator.eval()
        return TabularModel(generator, transform, _cond_index(info), config.data.name, run.root, config, use_ema)

    def sample(self, model: TabularModel, request: SampleRequest) -> Any:
        self.check_conditions(request)
        return generate_rows(model, request.n, request.seed, request.where)

    def write(self, samples: Any, out: Path) -> str:
        self.check_suffix(out)
        write_csv(samples, out)
        return f"wrote {len(samples)} rows x {samples.shape[1]} columns to {out}"

    def evaluate(self, run: RunFolder, model: TabularModel, request: EvalRequest) -> dict[str, Any]:
        return evaluate_table(model, request, self.default_eval_n)

    def report(self, results: dict[str, Any]) -> str:
        return format_table_report(results)

    def routes(self) -> list[Route]:
        return [Route("generate", generate_csv, TableRequest, output="table", label="Generate rows")]

    def describe(self, model: TabularModel) -> dict[str, Any]:
        schema = model.transform.schema
        return {"columns": {c.name: c.kind for c in schema.columns},
                "where_columns": model.transform.where_columns}


def _cond_index(info: dict[str, Any]) -> CondIndex | None:
    widths = [int(w) for w in info["cond_widths"]]
    if not widths:
        return None
    counts = torch.tensor(info["cond_counts"], dtype=torch.long)
    offsets = torch.tensor([sum(widths[:i]) for i in range(len(widths))], dtype=torch.long)
    empty = torch.zeros(0, dtype=torch.long)
    return CondIndex(counts, torch.zeros_like(counts), empty, offsets, torch.tensor(widths), sum(widths))


class SchemaFile(Callback):
    """Writes the inferred schema (and the split sizes) to the run folder when training starts."""

    def __init__(self, path: Path, data: TabularData) -> None:
        self.path = path
        self.data = data

    def on_train_start(self, trainer: Trainer) -> None:
        info = {"summary": summary(self.data), "training_rows": len(self.data.train),
                "holdout_rows": len(self.data.holdout), "ml_target": self.data.target,
                **self.data.schema.to_dict()}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(info, indent=2) + "\n")
