"""A trained vocoder loaded for inference, and the Python call any text-to-mel model can use:
``Vocoder.from_run(RUN)(mel)`` turns a log-mel tensor into a waveform."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ganforge.errors import GanforgeError
from ganforge.families.speech.audio import MelSpec, read_wav
from ganforge.families.vocoder.config import GLRefineConfig, HifiganConfig, VocoderModelFields
from ganforge.families.vocoder.glrefine import GLRefineGenerator
from ganforge.families.vocoder.nets import HifiGenerator, VocoderDiscriminator


def build_generator(model: HifiganConfig | GLRefineConfig, rate: int = 16000) -> HifiGenerator | GLRefineGenerator:
    """The generator of ``model.arch``: log-mel [B, n_mels, F] -> audio [B, 1, F * hop] (``rate``: the
    sample rate of the mel filterbank, used by gl-refine)."""
    if isinstance(model, GLRefineConfig):
        return GLRefineGenerator(model.n_mels, model.n_fft, model.hop, rate, model.griffin_lim_iters,
                                 model.channels, model.blocks, model.phase_blocks, model.kernel)
    return HifiGenerator(model.n_mels, model.channels, model.upsample_rates, model.kernels, model.dilations)


def build_discriminator(model: VocoderModelFields) -> VocoderDiscriminator:
    return VocoderDiscriminator(model.periods, model.period_channels, model.scales, model.scale_channels)


def mel_spec(model: HifiganConfig | GLRefineConfig, rate: int) -> MelSpec:
    """The mel analysis a vocoder was trained on (its input)."""
    return MelSpec(rate, model.n_fft, model.hop, model.n_mels)


@dataclass
class Vocoder:
    """A vocoder's generator with its mel settings: ``vocoder(mel)`` -> audio, ``vocoder.mel(audio)`` -> mel."""

    generator: HifiGenerator | GLRefineGenerator
    mel: MelSpec
    rate: int
    source: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_run(cls, run_dir: str | Path, device: str | torch.device = "cpu") -> Vocoder:
        """The vocoder of a trained run folder."""
        from ganforge.runs import load_run

        model = load_run(run_dir, device).model
        if not isinstance(model, Vocoder):
            raise GanforgeError(f"{run_dir} is not a vocoder run")
        return model

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    @torch.no_grad()
    def __call__(self, mel: Tensor) -> Tensor:
        """Log-mel [n_mels, F] or [B, n_mels, F] (natural log of mel magnitudes, as ``self.mel`` makes) ->
        audio [F * hop] or [B, F * hop] in [-1, 1]."""
        if mel.dim() not in (2, 3) or mel.shape[-2] != self.generator.n_mels:
            raise GanforgeError(f"the vocoder takes log-mel [n_mels={self.generator.n_mels}, frames] or "
                                f"[batch, {self.generator.n_mels}, frames]; got shape {list(mel.shape)}")
        single = mel.dim() == 2
        batch = mel[None] if single else mel
        audio = self.generator(batch.to(self.device, torch.float32))[:, 0]
        return audio[0] if single else audio

    def vocode(self, audio: np.ndarray) -> np.ndarray:
        """Copy synthesis: audio -> mel -> vocoder -> audio of the same length (a multiple of the hop is
        synthesized; the rest is zero-padded first)."""
        length = len(audio)
        padded = np.pad(audio, (0, -length % self.mel.hop))
        mel = self.mel(torch.from_numpy(padded).to(self.device))
        return self(mel).cpu().numpy()[:length]


def load_vocoder(model: HifiganConfig | GLRefineConfig, rate: int, state: dict[str, Any], device: torch.device,
                 ema: bool, source: Path | None = None) -> Vocoder:
    """The generator of a checkpoint (its EMA copy when there is one and ``ema``)."""
    generator = build_generator(model, rate)
    recipe = state["recipe"]
    weights = recipe["ema"]["model"] if ema and "ema" in recipe else recipe["generator"]
    generator.load_state_dict(weights)
    return Vocoder(generator.to(device).eval(), mel_spec(model, rate), rate, source)


def input_files(path: Path) -> list[Path]:
    """A WAV file, or the WAV files of a folder (sorted); a GanforgeError when there is none."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".wav", ".wave"))
        if not files:
            raise GanforgeError(f"--input {path}: the folder holds no .wav files")
        return files
    if not path.exists():
        raise GanforgeError(f"--input {path}: no such file or folder")
    return [path]


def read_inputs(path: Path, rate: int) -> tuple[list[np.ndarray], list[str]]:
    """The clips to vocode from a file or folder; in a folder, unreadable files are skipped and counted."""
    files = input_files(path)
    if len(files) == 1 and not path.is_dir():
        return [read_wav(files[0], rate)], [files[0].stem]
    clips, names, skipped = [], [], []
    for file in files:
        try:
            clips.append(read_wav(file, rate))
            names.append(file.stem)
        except GanforgeError as exc:
            skipped.append(str(exc))
    if skipped:
        print(f"warning: skipped {len(skipped)} of {len(files)} WAV file(s) in {path} (e.g. {skipped[0]})",
              flush=True)
    if not clips:
        raise GanforgeError(f"--input {path}: none of the {len(files)} WAV files is readable")
    return clips, names
