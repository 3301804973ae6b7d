"""Waveforms <-> normalized log-magnitude spectrogram images, as SpecGAN uses them: |STFT| without the Nyquist
bin (or ``n_mels`` mel bands of it), log, per-frequency standardization (statistics of the training clips),
clipped at 3 standard deviations and scaled to [-1, 1]; back to audio with Griffin-Lim or a pulse-excited
source-filter decoder (mel images are first spread back over the linear bins through the filterbank's
transpose)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganforge.families.speech.audio import griffin_lim, magnitude, mel_filterbank
from ganforge.families.speech.voicing import voiced_decode

LOG_FLOOR = 1e-3
CLIP_STD = 3.0


class SpecCodec:
    """Encode [B, T] audio as [B, 1, bins, T / hop] images in [-1, 1] (bins: ``n_mels``, or n_fft / 2 linear
    bins when it is 0); decode them to audio."""

    def __init__(self, n_fft: int, hop: int, frames: int, mean: Tensor | None = None, std: Tensor | None = None,
                 n_mels: int = 0, rate: int = 8000) -> None:
        self.n_fft, self.hop, self.frames, self.n_mels, self.rate = n_fft, hop, frames, n_mels, rate
        self.bins = n_mels or n_fft // 2
        self.bank = mel_filterbank(rate, n_fft, n_mels) if n_mels else None
        self.mean = mean if mean is not None else torch.zeros(self.bins)
        self.std = std if std is not None else torch.ones(self.bins)

    @property
    def samples(self) -> int:
        return self.frames * self.hop

    def log_magnitude(self, audio: Tensor) -> Tensor:
        mag = magnitude(audio, self.n_fft, self.hop)[..., : self.frames]
        mag = self.bank.to(mag.device) @ mag if self.bank is not None else mag[:, : self.bins]
        return torch.log(mag.clamp(min=LOG_FLOOR))

    def fit(self, audio: Tensor, chunk: int = 256) -> SpecCodec:
        """Set the per-frequency mean and standard deviation from training clips [N, T]."""
        total = torch.zeros(self.bins, dtype=torch.float64)
        squares = torch.zeros(self.bins, dtype=torch.float64)
        count = 0
        for start in range(0, len(audio), chunk):
            logs = self.log_magnitude(audio[start : start + chunk]).double()
            total += logs.sum(dim=(0, 2))
            squares += (logs**2).sum(dim=(0, 2))
            count += logs.shape[0] * logs.shape[2]
        mean = total / count
        self.mean = mean.float()
        self.std = (squares / count - mean**2).clamp(min=1e-6).sqrt().float()
        return self

    def encode(self, audio: Tensor) -> Tensor:
        logs = self.log_magnitude(audio)
        mean, std = self.mean.to(logs.device), self.std.to(logs.device)
        x = (logs - mean[:, None]) / (CLIP_STD * std[:, None])
        return x.clamp(-1.0, 1.0)[:, None]

    def magnitudes(self, images: Tensor, power: float = 1.0) -> Tensor:
        """Images [B, 1, bins, frames] -> linear magnitudes [B, n_fft / 2 + 1, frames + 1] (the frames + 1
        centred frames span frames * hop samples). ``power`` above 1 sharpens the magnitude (|S| ** power, as
        Tacotron does before Griffin-Lim: peaks stand out more from the noise between them)."""
        mean, std = self.mean.to(images.device), self.std.to(images.device)
        logs = images[:, 0].float() * CLIP_STD * std[:, None] + mean[:, None]
        mag = (torch.exp(logs) - LOG_FLOOR).clamp(min=0)  # the floor back to silence
        if power != 1.0:
            mag = mag**power
        if self.bank is not None:  # each band spread back over its bins: unlike the pseudo-inverse (entries
            # up to ~600 for narrow low bands), it does not amplify a generator's noise
            inverse = (self.bank / (self.bank**2).sum(dim=1, keepdim=True).clamp(min=1e-12)).T
            mag = inverse.to(mag.device) @ mag
        else:
            mag = torch.cat([mag, torch.zeros_like(mag[:, :1])], dim=1)  # the Nyquist bin
        return torch.cat([mag, mag[..., -1:]], dim=2)

    def decode(self, images: Tensor, iters: int = 32, seed: int = 0, power: float = 1.0, voice_f0: float = 0.0
               ) -> Tensor:
        """Images [B, 1, bins, frames] -> audio [B, frames * hop]: Griffin-Lim from a seeded phase, or with
        ``voice_f0`` > 0 the source-filter decoder of ``voicing.py`` (the image as an envelope, voiced by a
        pulse train at that pitch; ``iters`` unused)."""
        mag = self.magnitudes(images, power)
        if voice_f0 > 0:
            return voiced_decode(mag, self.n_fft, self.hop, self.rate, self.samples, voice_f0, seed)
        return griffin_lim(mag, self.n_fft, self.hop, iters, seed=seed, length=self.samples)

    def state(self) -> dict[str, Any]:
        """Plain values for a checkpoint."""
        return {"n_fft": self.n_fft, "hop": self.hop, "frames": self.frames, "mean": self.mean.tolist(),
                "std": self.std.tolist(), "n_mels": self.n_mels, "rate": self.rate}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SpecCodec:
        return cls(int(state["n_fft"]), int(state["hop"]), int(state["frames"]), torch.tensor(state["mean"]),
                   torch.tensor(state["std"]), int(state.get("n_mels", 0)), int(state.get("rate", 8000)))
