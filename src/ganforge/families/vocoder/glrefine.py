"""A Griffin-Lim vocoder refined by frame-rate networks (after Deep Griffin-Lim Iteration, Masuyama et al. 2019,
and the inverse-STFT vocoders iSTFTNet and Vocos): log-mel -> linear magnitude (the filterbank's pseudo-inverse,
clamped at 0, corrected by a network) -> Griffin-Lim phase of that magnitude (no gradient) -> a second network
rotates and scales each STFT bin -> inverse STFT. The last layer of each network starts at zero, so the untrained
model's output is exactly the Griffin-Lim reconstruction of the mel (``mel_griffin_lim`` with seed 0), and the
output, an inverse STFT, is a consistent spectrogram by construction."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.families.speech.audio import griffin_lim_angles, mel_filterbank

LOG_FLOOR = 1e-5
GRIFFIN_LIM_SEED = 0  # the random starting phase of the Griffin-Lim iterations inside the model


class ConvNeXt1d(nn.Module):
    """A ConvNeXt block over frames: depthwise conv, LayerNorm, pointwise MLP (x3, GELU), layer scale, residual."""

    def __init__(self, channels: int, kernel: int) -> None:
        super().__init__()
        self.depthwise = nn.Conv1d(channels, channels, kernel, padding=kernel // 2, groups=channels)
        self.norm = nn.LayerNorm(channels)
        self.expand = nn.Linear(channels, 3 * channels)
        self.project = nn.Linear(3 * channels, channels)
        self.scale = nn.Parameter(torch.full((channels,), 0.1))

    def forward(self, x: Tensor) -> Tensor:
        y = self.depthwise(x).transpose(1, 2)
        y = self.project(F.gelu(self.expand(self.norm(y))))
        return x + (self.scale * y).transpose(1, 2)


class FrameNet(nn.Module):
    """Features [B, inputs, F] -> corrections [B, outputs, F]; the output layer starts at zero."""

    def __init__(self, inputs: int, channels: int, outputs: int, blocks: int, kernel: int) -> None:
        super().__init__()
        self.pre = nn.Conv1d(inputs, channels, 1)  # pointwise: the blocks see the neighbouring frames
        self.blocks = nn.Sequential(*(ConvNeXt1d(channels, kernel) for _ in range(blocks)))
        self.norm = nn.LayerNorm(channels)
        self.post = nn.Linear(channels, outputs)
        nn.init.zeros_(self.post.weight)
        nn.init.zeros_(self.post.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.blocks(self.pre(x)).transpose(1, 2)
        return self.post(self.norm(x)).transpose(1, 2)


class GLRefineGenerator(nn.Module):
    """Log-mel [B, n_mels, F] (natural log, as ``MelSpec`` makes it) -> waveform [B, 1, F * hop]."""

    def __init__(self, n_mels: int, n_fft: int, hop: int, rate: int, iters: int, channels: int, blocks: int,
                 phase_blocks: int, kernel: int) -> None:
        super().__init__()
        self.n_mels, self.n_fft, self.hop, self.iters = n_mels, n_fft, hop, iters
        bins = n_fft // 2 + 1
        bank = mel_filterbank(rate, n_fft, n_mels)
        self.register_buffer("inverse", torch.linalg.pinv(bank), persistent=False)  # as MelSpec.to_magnitude
        # each band spread back over its bins: the scale of the additive magnitude correction
        self.register_buffer("spread", (bank / (bank**2).sum(dim=1, keepdim=True).clamp(min=1e-12)).T,
                             persistent=False)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.magnitude_net = FrameNet(n_mels + bins, channels, 2 * bins, blocks, kernel)
        self.phase_net = FrameNet(3 * bins, channels, 2 * bins, phase_blocks, kernel) if phase_blocks else None

    def magnitude(self, mel: Tensor) -> Tensor:
        """The corrected linear magnitude [B, n_fft // 2 + 1, F] of log-mel [B, n_mels, F]."""
        start = torch.clamp(self.inverse @ torch.exp(mel), min=0.0)
        features = torch.cat([mel, torch.log(start.clamp(min=LOG_FLOOR))], dim=1)
        log_scale, added = self.magnitude_net(features).chunk(2, dim=1)
        return torch.clamp(start * torch.exp(log_scale) + (self.spread @ torch.exp(mel)) * added, min=0.0)

    def correct_phase(self, mag: Tensor, angles: Tensor) -> Tensor:
        """Griffin-Lim's unit phasors times a learned complex factor per bin (1 when untrained)."""
        if self.phase_net is None:
            return angles
        advance = angles[..., 1:] * angles[..., :-1].conj()  # phase advance between frames: shift-invariant
        advance = torch.cat([torch.ones_like(advance[..., :1]), advance], dim=-1)
        features = torch.cat([torch.log(mag.detach().clamp(min=LOG_FLOOR)), advance.real, advance.imag], dim=1)
        real, imag = self.phase_net(features).chunk(2, dim=1)
        return angles * torch.complex(1.0 + real, imag)

    def forward(self, mel: Tensor) -> Tensor:
        wanted = mel.shape[-1] * self.hop
        shortest = self.n_fft // (2 * self.hop) + 1  # the STFT's reflect padding needs more than n_fft / 2 samples
        if mel.shape[-1] < shortest:  # silence appended, cut off again below
            mel = F.pad(mel, (0, shortest - mel.shape[-1]), value=math.log(LOG_FLOOR))
        length = mel.shape[-1] * self.hop
        mag = self.magnitude(mel.float())
        # MelSpec's frame i is centred on sample i * hop + hop / 2, the STFT's here on i * hop: one more frame,
        # then the audio is shifted by hop / 2 (as mel_griffin_lim does)
        mag = torch.cat([mag, mag[..., -1:]], dim=-1)
        with torch.no_grad():
            angles = griffin_lim_angles(mag.detach(), self.n_fft, self.hop, self.iters, seed=GRIFFIN_LIM_SEED,
                                        length=length)
        spec = mag * self.correct_phase(mag, angles)
        audio = torch.istft(spec, self.n_fft, self.hop, self.n_fft, self.window, length=length)
        return F.pad(audio, (self.hop // 2, 0))[:, None, :wanted]
