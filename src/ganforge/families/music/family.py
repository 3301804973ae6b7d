"""The music family: multi-track piano rolls (Bach chorales or MIDI folders), a MuseGAN-style GAN,
MIDI / WAV / piano-roll output, music metrics against two baselines, and audio over HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ganforge.data.stream import BatchStream
from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, Family, Route, SampleRequest, TrainingContext
from ganforge.families.music.config import MusicConfig
from ganforge.families.music.data import DATA_KINDS, MusicData, build_music_data, grid_of
from ganforge.families.music.evaluation import evaluate_music, report_lines
from ganforge.families.music.generate import (
    MusicModel,
    MusicSamples,
    binarize,
    probabilities,
    sample_rolls,
    write_samples,
)
from ganforge.families.music.metrics import METRICS
from ganforge.families.music.midi import midi_bytes
from ganforge.families.music.pianoroll import save_picture
from ganforge.families.music.recipe import MusicRecipe, build_generator, build_music_recipe
from ganforge.families.music.rolls import roll_to_notes
from ganforge.families.music.serving import music_routes
from ganforge.parallel import World
from ganforge.run_folder import RunFolder
from ganforge.training.callbacks import Preview

PREVIEW_SEED_OFFSET = 7919
MAX_PREVIEW = 16


def stack_rolls(samples: list[torch.Tensor]) -> torch.Tensor:
    return torch.stack(samples)


def prepare_rolls(batch: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 rolls -> float rolls in {0, 1} on ``device``."""
    return batch.to(device, non_blocking=True).float()


class MusicFamily(Family):
    name = "music"
    description = "multi-track music: Bach chorales or MIDI folders, a MuseGAN-style GAN, MIDI/WAV/piano rolls"
    config_class = MusicConfig
    archs = ("musegan",)
    output_suffixes = ("/", ".mid", ".midi", ".wav", ".png")
    default_eval_n = 500

    def data_kinds(self) -> dict[str, str]:
        return dict(DATA_KINDS)

    def model_kinds(self) -> dict[str, str]:
        return {"musegan": "multi-track piano rolls: shared and per-track latents, bars with a temporal part "
                           "(MuseGAN hybrid); a critic over all tracks"}

    def metric_kinds(self) -> dict[str, str]:
        return {**METRICS, "overlap": "nearest-neighbour overlap (Jaccard) of samples with training segments"}

    # --- training ------------------------------------------------------------------------------------

    def build_data(self, config: MusicConfig) -> MusicData:
        if config.train.amp != "none":
            raise GanforgeError(f"train.amp={config.train.amp} is not supported by music runs; use train.amp=none")
        return build_music_data(config)

    def fit_config(self, config: MusicConfig, data: MusicData) -> MusicConfig:
        config = config.with_section("data", tracks=data.tracks, lowest_pitch=data.lowest, pitches=data.pitches,
                                     programs=data.programs, track_names=data.track_names, tempo=data.tempo)
        if config.model.monophonic is None:
            config = config.with_section("model", monophonic=data.monophonic)
        return config

    def build_recipe(self, config: MusicConfig, data: MusicData, device: torch.device) -> MusicRecipe:
        return build_music_recipe(config, device)

    def build_stream(self, config: MusicConfig, data: MusicData, device: torch.device, world: World) -> BatchStream:
        return BatchStream(data.dataset(), config.data.batch_size, config.train.seed, device, config.data.num_workers,
                           world=world, collate=stack_rolls, prepare=prepare_rolls)

    def callbacks(self, context: TrainingContext) -> list[Any]:
        if not context.writes:
            return []
        config, recipe = context.config, context.recipe
        data: MusicData = context.data
        n = min(config.train.grid_size, MAX_PREVIEW)
        seed = config.train.seed + PREVIEW_SEED_OFFSET

        def write(stem: Path) -> list[Path]:
            m = config.model
            rolls = binarize(probabilities(recipe.sampler, n, seed, context.device), "threshold", m.threshold,
                             bool(m.monophonic), seed)
            png = save_picture(rolls, data.lowest, data.grid.steps_per_bar, stem.with_suffix(".png"))
            midi = stem.with_suffix(".mid")
            midi.write_bytes(midi_bytes(roll_to_notes(rolls[0], data.lowest), data.tracks, data.programs,
                                        data.tempo, data.grid.steps_per_beat, data.track_names))
            return [png, midi]

        return [Preview(context.run.samples, write, config.train.sample_every)]

    def checkpoint_info(self, config: MusicConfig, data: MusicData) -> dict[str, Any]:
        return {"music_rolls": [data.tracks, data.grid.steps, data.pitches, data.lowest]}

    # --- using a run ---------------------------------------------------------------------------------

    def load(self, run: RunFolder, config: MusicConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> MusicModel:
        d, m = config.data, config.model
        if d.tracks is None or d.pitches is None or d.lowest_pitch is None:
            raise GanforgeError(f"{run.root}/config.yaml lacks the fitted data.tracks/pitches/lowest_pitch; "
                                "it was not written by `ganforge train`")
        generator = build_generator(config)
        recipe = state["recipe"]
        use_ema = ema and recipe.get("ema") is not None
        generator.load_state_dict(recipe["ema"]["model"] if use_ema else recipe["generator"])
        generator.to(device).eval()
        return MusicModel(generator, device, grid_of(d), d.lowest_pitch, list(d.programs or [0] * d.tracks),
                          list(d.track_names or [f"track {i + 1}" for i in range(d.tracks)]), float(d.tempo or 100),
                          m.binarize, m.threshold, bool(m.monophonic), int(state.get("step", 0)), config)

    def sample(self, model: MusicModel, request: SampleRequest) -> MusicSamples:
        self.check_conditions(request)
        if request.n < 1:
            raise GanforgeError(f"--n must be at least 1, got {request.n}")
        return MusicSamples(sample_rolls(model, request.n, request.seed), model.grid, model.lowest, model.programs,
                            model.track_names, model.tempo)

    def write(self, samples: MusicSamples, out: Path) -> str:
        return write_samples(samples, out, self.check_suffix(out))

    def evaluate(self, run: RunFolder, model: MusicModel, request: EvalRequest) -> dict[str, Any]:
        config: MusicConfig = model.config
        n = request.n or config.eval.n
        return evaluate_music(model, config, n, request.seed, request.against, request.metrics)

    def report(self, results: dict[str, Any]) -> str:
        return report_lines(results)

    def routes(self) -> list[Route]:
        return music_routes()

    def describe(self, model: MusicModel) -> dict[str, Any]:
        return {"tracks": model.track_names, "programs": model.programs, "steps": model.grid.steps,
                "bars": model.grid.bars, "lowest_pitch": model.lowest,
                "pitches": int(model.generator.pitches), "tempo": model.tempo,
                "seconds": round(model.grid.steps * 60.0 / model.tempo / model.grid.steps_per_beat, 2)}

