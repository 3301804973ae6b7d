"""A source-filter decoder for generated spectrograms: the spectrogram is read as an envelope and voiced
with a pulse train (a channel vocoder, Dudley 1939), instead of Griffin-Lim's phase search.

Why: a SpecGAN generator draws the formants (the digit) but not the harmonic stripes of voiced speech.
Griffin-Lim keeps the magnitude it is given, so a stripe-less magnitude comes back as a whisper, which a
classifier trained on voiced speech hears less often (docs/speech.md). Here the magnitude is multiplied
by the spectrum of a glottal-like excitation, so the harmonics come from the decoder and the envelope
from the generator. The pitch is the decoder's (one ``f0`` for every clip): the voice is monotone.

Every step is one STFT or ISTFT, so decoding is also much faster than Griffin-Lim's iterations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

NOISE_SHARE = 0.2  # aspiration noise beside the pulses in the voiced band (breathier, less buzzy)
VOICED_BELOW_HZ = 3000.0  # above this the excitation is noise alone (fricatives: s, f, th)
CROSSOVER_HZ = 150.0  # width of the logistic crossover between the voiced and the noise band
SMOOTH_BINS = 1  # the envelope is averaged over 2k+1 neighbouring bins: traces of the real harmonics,
# which would beat against the decoder's own, are blurred; a wider average blurs the formants too (on real
# clips k=1 costs 0.02 of digit accuracy, k=2 0.14)


def smooth_over_frequency(mag: Tensor, bins: int) -> Tensor:
    """A moving average of ``mag`` [B, F, T] over 2 * bins + 1 frequency bins (edges repeated)."""
    if bins <= 0:
        return mag
    b, f, t = mag.shape
    rows = mag.permute(0, 2, 1).reshape(b * t, 1, f)
    padded = F.pad(rows, (bins, bins), mode="replicate")
    kernel = torch.full((1, 1, 2 * bins + 1), 1.0 / (2 * bins + 1), dtype=mag.dtype, device=mag.device)
    return F.conv1d(padded, kernel).reshape(b, t, f).permute(0, 2, 1)


def flat_spectrum(signal: Tensor, n_fft: int, hop: int, frames: int) -> Tensor:
    """STFT [B, n_fft // 2 + 1, frames] of ``signal`` divided by its mean magnitude per bin: its fine
    structure (harmonics, or random phase) with a flat envelope."""
    window = torch.hann_window(n_fft, device=signal.device, dtype=signal.dtype)
    spec = torch.stft(signal, n_fft, hop, n_fft, window, return_complex=True)[..., :frames]
    return spec / spec.abs().mean(dim=2, keepdim=True).clamp(min=1e-8)


def pulse_train(length: int, f0: float, rate: int, device: torch.device) -> Tensor:
    """One unit impulse per pitch period: [length] samples at ``f0`` Hz."""
    cycles = torch.arange(length, device=device, dtype=torch.float64) * (f0 / rate)
    starts = torch.diff(torch.floor(cycles), prepend=torch.full((1,), -1.0, device=device, dtype=torch.float64))
    return (starts > 0).float()


def voiced_decode(mag: Tensor, n_fft: int, hop: int, rate: int, length: int, f0: float = 160.0,
                  seed: int = 0) -> Tensor:
    """Audio [B, length] from linear magnitudes [B, n_fft // 2 + 1, frames] (centred frames ``hop`` apart,
    as ``torch.stft`` makes them): envelope x (pulses + noise below ``VOICED_BELOW_HZ``, noise above)."""
    batch, bins, frames = mag.shape
    envelope = smooth_over_frequency(mag.float(), SMOOTH_BINS)
    span = hop * (frames - 1)
    pulses = flat_spectrum(pulse_train(span, f0, rate, mag.device)[None], n_fft, hop, frames)  # [1, F, T]: one for all
    generator = torch.Generator().manual_seed(seed)
    noise = flat_spectrum(torch.randn(batch, span, generator=generator).to(mag.device), n_fft, hop, frames)
    freqs = torch.arange(bins, device=mag.device) * (rate / n_fft)
    voiced = torch.sigmoid((VOICED_BELOW_HZ - freqs) / CROSSOVER_HZ)[None, :, None]
    excitation = voiced * (pulses + NOISE_SHARE * noise) + (1 - voiced) * noise
    window = torch.hann_window(n_fft, device=mag.device)
    return torch.istft(envelope * excitation, n_fft, hop, n_fft, window, length=length)
