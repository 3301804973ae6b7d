"""The speech family: class-conditional spoken words (SpecGAN style) trained on spoken digits or labelled WAVs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganforge.data.stream import BatchStream
from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, Family, SampleRequest, TrainingContext
from ganforge.families.speech.config import SpeechConfig
from ganforge.families.speech.corpus import Corpus
from ganforge.families.speech.datasets import ClipDataset, collate_audio, data_kinds, load_corpus
from ganforge.families.speech.model import SpeechModel, build_networks, load_speech_model
from ganforge.families.speech.outputs import AudioClips, AudioPreview, write_clips
from ganforge.families.speech.real_classes import RealClassesOnly
from ganforge.families.speech.serving import ROUTES
from ganforge.families.speech.spectrogram import SpecCodec
from ganforge.parallel import World
from ganforge.recipes import GANRecipe, build_gan_recipe
from ganforge.run_folder import RunFolder

PREVIEW_SEED = 7919  # the preview's fixed noise


@dataclass
class SpeechData:
    """The corpus, the training clips and the spectrogram codec fitted to them."""

    corpus: Corpus
    train: ClipDataset
    codec: SpecCodec


class SpeechFamily(Family):
    name = "speech"
    description = "spoken words from noise and a class (SpecGAN style), e.g. the digits zero to nine"
    config_class = SpeechConfig
    archs = ("specgan",)
    sample_options = frozenset({"class_index"})
    output_suffixes = ("/", ".wav")
    default_eval_n = 500

    def data_kinds(self) -> dict[str, str]:
        return data_kinds()

    def model_kinds(self) -> dict[str, str]:
        return {"specgan": "class-conditional DCGAN on log-magnitude spectrograms (cBN or one-hot concat G, "
                           "projection, AC-GAN or both in D, optional label planes), "
                           "Griffin-Lim to audio"}

    def metric_kinds(self) -> dict[str, str]:
        from ganforge.families.speech.evaluation import METRICS

        return dict(METRICS)

    # --- training ------------------------------------------------------------------------------------

    def build_data(self, config: SpeechConfig) -> SpeechData:
        d = config.data
        corpus = load_corpus(d.name, d.root, d.sample_rate, int(0.05 * d.sample_rate), d.voices, d.takes)
        training = np.flatnonzero(~corpus.held_out)
        if len(training) == 0:
            raise GanforgeError(f"{d.name}: every clip is held out; use more voices or files")
        dataset = ClipDataset(corpus, training, d.segment)
        m = config.model
        codec = SpecCodec(m.n_fft, m.hop, d.segment // m.hop, n_mels=m.n_mels, rate=d.sample_rate).fit(dataset.audio)
        return SpeechData(corpus, dataset, codec)

    def fit_config(self, config: SpeechConfig, data: SpeechData) -> SpeechConfig:
        found = len(data.corpus.classes)
        if found < 2:
            raise GanforgeError(f"{config.data.name} has no classes; spoken-word runs are class-conditional: use "
                                "spoken-digits or wav:PATH with one subfolder of WAVs per class")
        if config.model.num_classes not in (0, found):
            raise GanforgeError(f"model.num_classes={config.model.num_classes} but {config.data.name} has {found} "
                                "classes; leave model.num_classes at 0 to take it from the data")
        return config.with_section("model", num_classes=found)

    def build_recipe(self, config: SpeechConfig, data: SpeechData, device: torch.device) -> GANRecipe:
        generator, discriminator = build_networks(config.model, data.codec.frames, config.model.num_classes)
        aux = config.model.d_cond in ("acgan", "both")
        recipe = build_gan_recipe(generator, discriminator, config.model.z_dim, config.loss, config.optim,
                                  config.train, device, config.data.diffaugment, aux_classes=aux)
        if aux and not config.loss.aux_fakes:  # one process only (no DDP): the pair is not re-wrapped later
            recipe.d_pair = RealClassesOnly(recipe.d_pair)
        return recipe

    def build_stream(self, config: SpeechConfig, data: SpeechData, device: torch.device, world: World
                     ) -> BatchStream:
        codec = data.codec

        def prepare(batch: Any, dev: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
            audio, labels = batch
            return codec.encode(audio.to(dev)), labels.to(dev)

        return BatchStream(data.train, config.data.batch_size, config.train.seed, device, config.data.num_workers,
                           world=world, collate=collate_audio, prepare=prepare)

    def callbacks(self, context: TrainingContext) -> list[Any]:
        if not context.writes:
            return []
        config, data = context.config, context.data
        recipe = context.recipe
        classes = data.corpus.classes

        def render() -> AudioClips:
            model = SpeechModel(recipe.sampler, data.codec, classes, config.data.sample_rate,
                                config.model.griffin_lim_iters, decode_power=config.model.decode_power,
                                voice_f0=config.model.decode_f0)
            was_training = recipe.sampler.training
            recipe.sampler.eval()
            clips = model.clips(len(classes), PREVIEW_SEED)  # one of each class, in order
            recipe.sampler.train(was_training)
            return clips

        callbacks: list[Any] = [AudioPreview(context.run.samples, render, config.train.sample_every)]
        if config.eval.every:
            from ganforge.families.speech.evaluation import training_evaluation

            evaluation = training_evaluation(context)
            callbacks += [evaluation] if evaluation else []
        return callbacks

    def checkpoint_info(self, config: SpeechConfig, data: SpeechData) -> dict[str, Any]:
        return {"codec": data.codec.state(), "classes": list(data.corpus.classes),
                "sample_rate": config.data.sample_rate}

    # --- using a run ---------------------------------------------------------------------------------

    def load(self, run: RunFolder, config: SpeechConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> SpeechModel:
        return load_speech_model(config.model, state, device, ema, run.root)

    def sample(self, model: SpeechModel, request: SampleRequest) -> AudioClips:
        with model.lock:
            return model.clips(request.n, request.seed, request.class_index)

    def write(self, samples: AudioClips, out: Path) -> str:
        return write_clips(samples, out, self.check_suffix(out))

    def evaluate(self, run: RunFolder, model: SpeechModel, request: EvalRequest) -> dict[str, Any]:
        from ganforge.families.speech.evaluation import evaluate_digits
        from ganforge.runs import load_run_config

        return evaluate_digits(model, load_run_config(run.root), request, str(run.root))

    def report(self, results: dict[str, Any]) -> str:
        from ganforge.families.speech.evaluation import format_report

        return format_report(results)

    def routes(self) -> list[Any]:
        return list(ROUTES)

    def describe(self, model: SpeechModel) -> dict[str, Any]:
        return {"sample_rate": model.rate, "classes": list(model.classes), "seconds": model.codec.samples / model.rate,
                "spectrogram": [model.codec.bins, model.codec.frames], "ema": model.ema}
