"""The text family: an LSTM language model trained by maximum likelihood, SeqGAN or a Gumbel-softmax GAN,
on the oracle benchmark, Debian's fortunes or any text file; samples as .txt / .jsonl; BLEU, Self-BLEU,
oracle NLL and NLL over a temperature sweep."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganforge.data.stream import BatchStream, prepare_tensors
from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, Family, Route, SampleRequest, TrainingContext
from ganforge.families.text.config import TextConfig
from ganforge.families.text.data import DATA_KINDS, RowDataset, TextData, build_text_data, collate_rows
from ganforge.families.text.evaluation import METRICS, evaluate_text, format_report
from ganforge.families.text.model import TextModel, TextSamples, load_text_model, sample_texts
from ganforge.families.text.outputs import ROUTES, write_jsonl, write_txt
from ganforge.families.text.recipe import TextRecipe
from ganforge.families.text.sampling import draw
from ganforge.parallel import World
from ganforge.run_folder import RunFolder
from ganforge.training.callbacks import Preview

PREVIEW_TEXTS = 16
PREVIEW_SEED_OFFSET = 7919


class TextFamily(Family):
    name = "text"
    description = "text generation: MLE language model vs SeqGAN vs Gumbel-softmax GAN, measured the same way"
    config_class = TextConfig
    sample_options = frozenset({"prompt", "temperature"})
    output_suffixes = (".txt", ".jsonl")
    default_eval_n = 500

    def data_kinds(self) -> dict[str, str]:
        return dict(DATA_KINDS)

    def model_kinds(self) -> dict[str, str]:
        return {"lstm": "text: LSTM language model; gan.method mle, seqgan (CNN D, rollouts) or gumbel (RelGAN-style)"}

    def metric_kinds(self) -> dict[str, str]:
        return dict(METRICS)

    # --- training ------------------------------------------------------------------------------------

    def build_data(self, config: TextConfig) -> TextData:
        return build_text_data(config.data)

    def fit_config(self, config: TextConfig, data: TextData) -> TextConfig:
        if data.oracle is not None and config.data.max_len != data.max_len:
            return config.with_section("data", max_len=data.max_len)  # oracle sequences fix the length
        return config

    def build_recipe(self, config: TextConfig, data: TextData, device: torch.device) -> TextRecipe:
        return TextRecipe(config, len(data.vocab), data.max_len, data.end_token, device)

    def build_stream(self, config: TextConfig, data: TextData, device: torch.device, world: World) -> BatchStream:
        return BatchStream(RowDataset(data.train), config.data.batch_size, config.train.seed, device,
                           config.data.num_workers, world=world, collate=collate_rows, prepare=prepare_tensors)

    def callbacks(self, context: TrainingContext) -> list[Any]:
        if not context.writes:
            return []
        recipe, data, seed = context.recipe, context.data, context.config.train.seed + PREVIEW_SEED_OFFSET

        def write(stem: Path) -> list[Path]:
            generator = torch.Generator(device=context.device).manual_seed(seed)  # same draws at every preview
            rows = draw(recipe.sampler, PREVIEW_TEXTS, 1.0, generator)[0].cpu()
            texts = [" ".join(data.vocab.decode(r)) for r in rows.tolist()]
            path = stem.with_suffix(".txt")
            path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
            return [path]

        return [Preview(context.run.samples, write, context.config.train.sample_every)]

    def checkpoint_info(self, config: TextConfig, data: TextData) -> dict[str, Any]:
        return {"text": {"vocab": list(data.vocab.words), "max_len": data.max_len, "end_token": data.end_token,
                         "data": {k: v for k, v in data.info.items() if k != "oracle"}}}

    # --- using a run ---------------------------------------------------------------------------------

    def load(self, run: RunFolder, config: TextConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> TextModel:
        return load_text_model(config, state, device, run.root)

    def sample(self, model: TextModel, request: SampleRequest) -> TextSamples:
        self.check_conditions(request)
        return sample_texts(model, request.n, request.seed, request.temperature, request.prompt)

    def write(self, samples: TextSamples, out: Path) -> str:
        kind = self.check_suffix(out)
        path = write_jsonl(samples, out) if kind == ".jsonl" else write_txt(samples, out)
        notes = f" (note: {'; '.join(samples.notes)})" if samples.notes else ""
        return f"wrote {len(samples.texts)} texts at temperature {samples.temperature:g} to {path}{notes}"

    def evaluate(self, run: RunFolder, model: TextModel, request: EvalRequest) -> dict[str, Any]:
        if request.against:
            raise GanforgeError("text runs are evaluated against their own held-out split; drop --against")
        if request.metrics:
            unknown = [m for m in request.metrics.split(",") if m.strip() and m.strip() not in METRICS]
            if unknown:
                raise GanforgeError(f"unknown text metric {unknown[0]}: use {', '.join(METRICS)} "
                                    "(all are computed; each applies to its data kind)")
        n = request.n or model.config.eval.n or self.default_eval_n
        return evaluate_text(model, n, request.seed, None, run.root / "eval", str(run.root))

    def report(self, results: dict[str, Any]) -> str:
        return format_report(results)

    def routes(self) -> list[Route]:
        return list(ROUTES)

    def describe(self, model: TextModel) -> dict[str, Any]:
        return {"vocab_size": len(model.vocab), "max_len": model.generator.max_len,
                "method": model.config.gan.method, "data": model.config.data.name}
