"""The vocoder family: a HiFi-GAN-style GAN that turns log-mel spectrograms into waveforms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.data.stream import BatchStream, prepare_tensors
from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, Family, SampleRequest, TrainingContext
from ganforge.families.speech.corpus import Corpus
from ganforge.families.speech.datasets import SegmentDataset, collate_audio, data_kinds, load_corpus
from ganforge.families.speech.outputs import AudioClips, AudioPreview, write_clips
from ganforge.families.vocoder.config import VocoderConfig
from ganforge.families.vocoder.evaluation import METRICS, evaluate_vocoder, format_report
from ganforge.families.vocoder.model import (
    Vocoder,
    build_discriminator,
    build_generator,
    load_vocoder,
    mel_spec,
    read_inputs,
)
from ganforge.families.vocoder.recipe import VocoderRecipe
from ganforge.families.vocoder.serving import ROUTES
from ganforge.parallel import World
from ganforge.run_folder import RunFolder

PREVIEW_SECONDS = 3.0


class VocoderFamily(Family):
    name = "vocoder"
    description = "GAN vocoders: log-mel spectrogram -> waveform (HiFi-GAN style, or Griffin-Lim refined)"
    config_class = VocoderConfig
    archs = ("hifigan", "gl-refine")
    sample_options = frozenset({"input"})
    output_suffixes = ("/", ".wav")
    default_eval_n = 16

    def data_kinds(self) -> dict[str, str]:
        return data_kinds()

    def model_kinds(self) -> dict[str, str]:
        return {"hifigan": "HiFi-GAN-style vocoder: transposed convs + multi-receptive-field blocks; "
                           "multi-period and multi-scale discriminators",
                "gl-refine": "Griffin-Lim refined by frame-rate ConvNeXt networks (magnitude, then phase) and the "
                             "inverse STFT; untrained, it is exactly Griffin-Lim"}

    def metric_kinds(self) -> dict[str, str]:
        return dict(METRICS)

    # --- training ------------------------------------------------------------------------------------

    def build_data(self, config: VocoderConfig) -> Corpus:
        d = config.data
        return load_corpus(d.name, d.root, d.sample_rate, d.segment, d.voices, d.takes)

    def build_recipe(self, config: VocoderConfig, data: Corpus, device: torch.device) -> VocoderRecipe:
        model = config.model
        return VocoderRecipe(build_generator(model, config.data.sample_rate), build_discriminator(model),
                             mel_spec(model, config.data.sample_rate), config.loss, config.optim, config.train,
                             device)

    def build_stream(self, config: VocoderConfig, data: Corpus, device: torch.device, world: World) -> BatchStream:
        training = np.flatnonzero(~data.held_out)
        if len(training) == 0:
            raise GanforgeError(f"{config.data.name}: every clip is held out; use more voices or files")
        dataset = SegmentDataset(data, training, config.data.segment)
        return BatchStream(dataset, config.data.batch_size, config.train.seed, device, config.data.num_workers,
                           world=world, collate=collate_audio, prepare=prepare_tensors)

    def callbacks(self, context: TrainingContext) -> list[Any]:
        if not context.writes:
            return []
        data: Corpus = context.data
        rate = context.config.data.sample_rate
        held = np.flatnonzero(data.held_out)
        pick = int(held[0]) if len(held) else 0
        clip = data.clips[pick][: int(PREVIEW_SECONDS * rate)]
        spec = context.recipe.mel
        clip = clip[: len(clip) // spec.hop * spec.hop]
        mel = spec(torch.from_numpy(clip).to(context.device))[None]

        def render() -> AudioClips:
            sampler = context.recipe.sampler
            was_training = sampler.training
            sampler.eval()
            audio = sampler(mel)[0, 0].cpu().numpy()
            sampler.train(was_training)
            return AudioClips([clip, audio], ["original", "vocoded"], rate)

        return [AudioPreview(context.run.samples, render, context.config.train.sample_every)]

    # --- using a run ---------------------------------------------------------------------------------

    def load(self, run: RunFolder, config: VocoderConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> Vocoder:
        return load_vocoder(config.model, config.data.sample_rate, state, device, ema, run.root)

    def sample(self, model: Vocoder, request: SampleRequest) -> AudioClips:
        """Copy synthesis of ``request.input`` (a WAV file or a folder of them): one output per input."""
        if request.input is None:
            raise GanforgeError("a vocoder turns recordings into recordings: give --input FILE.wav or a folder "
                                "of WAV files (ganforge vocode RUN --input ... --out DIR/)")
        clips, names = read_inputs(Path(request.input), model.rate)
        return AudioClips([model.vocode(c) for c in clips], names, model.rate)

    def write(self, samples: AudioClips, out: Path) -> str:
        return write_clips(samples, out, self.check_suffix(out))

    def evaluate(self, run: RunFolder, model: Vocoder, request: EvalRequest) -> dict[str, Any]:
        from ganforge.runs import load_run_config

        config = load_run_config(run.root)
        return evaluate_vocoder(model, config, request, str(run.root))

    def report(self, results: dict[str, Any]) -> str:
        return format_report(results)

    def routes(self) -> list[Any]:
        return list(ROUTES)

    def describe(self, model: Vocoder) -> dict[str, Any]:
        return {"sample_rate": model.rate, "n_mels": model.mel.n_mels, "hop": model.mel.hop,
                "n_fft": model.mel.n_fft, "parameters": sum(p.numel() for p in model.generator.parameters())}
