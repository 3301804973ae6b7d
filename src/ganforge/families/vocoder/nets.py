"""A small HiFi-GAN-style vocoder (Kong et al. 2020): a transposed-convolution generator with
multi-receptive-field residual blocks, and multi-period and multi-scale discriminators. Plain modules; the
discriminators return raw logits and their feature maps (for the feature-matching loss)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SLOPE = 0.1


class ResBlock(nn.Module):
    """Residual dilated convolutions of one kernel size (one conv per dilation, as HiFi-GAN V3)."""

    def __init__(self, channels: int, kernel: int, dilations: list[int]) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=d, padding=d * (kernel - 1) // 2) for d in dilations
        )

    def forward(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, SLOPE))
        return x


class HifiGenerator(nn.Module):
    """Log-mel [B, n_mels, F] -> waveform [B, 1, F * prod(upsample_rates)] in [-1, 1]."""

    def __init__(self, n_mels: int, channels: int, upsample_rates: list[int], kernels: list[int],
                 dilations: list[list[int]]) -> None:
        super().__init__()
        self.n_mels = n_mels
        self.hop = 1
        for rate in upsample_rates:
            self.hop *= rate
        self.pre = nn.Conv1d(n_mels, channels, 7, padding=3)
        self.ups = nn.ModuleList()
        self.mrfs = nn.ModuleList()
        width = channels
        for rate in upsample_rates:
            out = max(width // 2, 4)
            # kernel 2r, stride r, padding r/2 (+ r odd: output_padding 1): exactly r times longer
            self.ups.append(nn.ConvTranspose1d(width, out, 2 * rate, rate, padding=rate // 2 + rate % 2,
                                               output_padding=rate % 2))
            self.mrfs.append(nn.ModuleList(ResBlock(out, k, d) for k, d in zip(kernels, dilations, strict=True)))
            width = out
        self.post = nn.Conv1d(width, 1, 7, padding=3)

    def forward(self, mel: Tensor) -> Tensor:
        x = self.pre(mel)
        for up, blocks in zip(self.ups, self.mrfs, strict=True):
            x = up(F.leaky_relu(x, SLOPE))
            x = sum(block(x) for block in blocks) / len(blocks)
        return torch.tanh(self.post(F.leaky_relu(x)))


def judge(convs: nn.ModuleList, out: nn.Module, x: Tensor) -> tuple[Tensor, list[Tensor]]:
    """Leaky-ReLU convolutions then the output layer: (logits flattened per sample, every layer's features
    for the feature-matching loss)."""
    features = []
    for conv in convs:
        x = F.leaky_relu(conv(x), SLOPE)
        features.append(x)
    x = out(x)
    features.append(x)
    return x.flatten(1), features


class PeriodDiscriminator(nn.Module):
    """The waveform folded into [B, 1, T / p, p] and judged by 2-D convolutions along time."""

    def __init__(self, period: int, channels: int) -> None:
        super().__init__()
        self.period = period
        widths = [1, channels, channels * 2, channels * 4, channels * 4]
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, (5, 1), (3 if i < 3 else 1, 1), padding=(2, 0))
            for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=True))
        )
        self.out = nn.Conv2d(widths[-1], 1, (3, 1), padding=(1, 0))

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        b, c, t = x.shape
        if t % self.period:
            x = F.pad(x, (0, self.period - t % self.period), mode="reflect")
        return judge(self.convs, self.out, x.view(b, c, -1, self.period))


class ScaleDiscriminator(nn.Module):
    """Strided, grouped 1-D convolutions over the waveform at one scale."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        c = channels
        self.convs = nn.ModuleList([
            nn.Conv1d(1, c, 15, padding=7),
            nn.Conv1d(c, c * 2, 41, 4, groups=4, padding=20),
            nn.Conv1d(c * 2, c * 4, 41, 4, groups=8, padding=20),
            nn.Conv1d(c * 4, c * 4, 5, padding=2),
        ])
        self.out = nn.Conv1d(c * 4, 1, 3, padding=1)

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        return judge(self.convs, self.out, x)


class VocoderDiscriminator(nn.Module):
    """Multi-period plus multi-scale discriminators: lists of logits and of feature-map lists."""

    def __init__(self, periods: list[int], period_channels: int, scales: int, scale_channels: int) -> None:
        super().__init__()
        self.periods = nn.ModuleList(PeriodDiscriminator(p, period_channels) for p in periods)
        self.scales = nn.ModuleList(ScaleDiscriminator(scale_channels) for _ in range(scales))

    def forward(self, audio: Tensor) -> tuple[list[Tensor], list[list[Tensor]]]:
        logits, features = [], []
        for d in self.periods:
            out, feats = d(audio)
            logits.append(out)
            features.append(feats)
        x = audio
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool1d(x, 4, 2, padding=2)
            out, feats = d(x)
            logits.append(out)
            features.append(feats)
        return logits, features
