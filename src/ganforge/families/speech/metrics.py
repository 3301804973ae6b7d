"""Audio quality metrics: mel-spectrogram L1, multi-resolution STFT distance, STOI (pystoi) and PESQ (pesq),
each comparing a degraded clip with its reference at the same rate and length."""

from __future__ import annotations

import math

import numpy as np
import torch

from ganforge.errors import GanforgeError
from ganforge.families.speech.audio import MelSpec, magnitude

STFT_RESOLUTIONS = ((512, 128), (1024, 256), (256, 64))


def mel_l1(reference: np.ndarray, degraded: np.ndarray, spec: MelSpec) -> float:
    """Mean absolute difference of the log-mel spectrograms (natural log)."""
    a, b = spec(torch.from_numpy(reference)), spec(torch.from_numpy(degraded))
    return float((a - b).abs().mean())


def stft_distance(reference: np.ndarray, degraded: np.ndarray) -> float:
    """Multi-resolution STFT distance: spectral convergence plus log-magnitude L1, averaged over 3 resolutions."""
    ref, deg = torch.from_numpy(reference)[None], torch.from_numpy(degraded)[None]
    total = 0.0
    for n_fft, hop in STFT_RESOLUTIONS:
        r, d = magnitude(ref, n_fft, hop), magnitude(deg, n_fft, hop)
        convergence = torch.linalg.norm(r - d) / torch.linalg.norm(r).clamp(min=1e-7)
        log_l1 = (torch.log(r.clamp(min=1e-5)) - torch.log(d.clamp(min=1e-5))).abs().mean()
        total += float(convergence + log_l1)
    return total / len(STFT_RESOLUTIONS)


def stoi(reference: np.ndarray, degraded: np.ndarray, rate: int) -> float:
    """Short-time objective intelligibility (Taal et al. 2011) via pystoi: 0 to 1, higher is better."""
    try:
        from pystoi import stoi as pystoi_stoi
    except ImportError:
        raise GanforgeError("STOI needs pystoi: pip install 'ganforge[speech]' (or pip install pystoi)") from None
    return float(pystoi_stoi(reference, degraded, rate, extended=False))


def pesq(reference: np.ndarray, degraded: np.ndarray, rate: int) -> float:
    """PESQ (ITU-T P.862) via the pesq package: wide-band at 16 kHz, narrow-band at 8 kHz (-0.5 to 4.5, higher
    is better); NaN when PESQ finds no speech in the reference."""
    try:
        from pesq import pesq as pesq_score
    except ImportError:
        raise GanforgeError("PESQ needs the pesq package: pip install 'ganforge[speech]' (or pip install pesq)"
                            ) from None
    if rate not in (8000, 16000):
        raise GanforgeError(f"PESQ works at 8000 or 16000 Hz, not {rate}; train with data.sample_rate=16000")
    try:
        return float(pesq_score(rate, reference, degraded, "wb" if rate == 16000 else "nb"))
    except Exception:  # pesq raises NoUtterancesError / BufferTooShortError for silent or short clips
        return math.nan


def mean(values: list[float]) -> float:
    """The mean of the finite values (NaN when there is none)."""
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan
