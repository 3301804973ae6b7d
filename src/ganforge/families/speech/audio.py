"""Audio basics of the speech family: WAV reading/writing, resampling, mel and linear spectrograms (torch.stft),
and Griffin-Lim phase reconstruction. No torchaudio: soundfile reads and writes, scipy resamples."""

from __future__ import annotations

import io
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganforge.errors import GanforgeError

MIN_CLIP_SECONDS = 0.05  # shorter files hold no usable sound


def read_wav(source: str | Path | bytes, rate: int, name: str | None = None) -> np.ndarray:
    """A WAV (path or bytes) as mono float32 in [-1, 1] at ``rate`` Hz: channels are averaged and other rates
    resampled. Empty, corrupt or too-short files raise a one-line GanforgeError naming the file."""
    import soundfile

    shown = name or (str(source) if not isinstance(source, bytes) else "the upload")
    if isinstance(source, (str, Path)) and not Path(source).is_file():
        raise GanforgeError(f"{shown}: no such WAV file; give a .wav file or a folder of them")
    try:
        handle = io.BytesIO(source) if isinstance(source, bytes) else source
        audio, file_rate = soundfile.read(handle, dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError... for bad files
        reason = str(exc).splitlines()[0].split(": ")[-1].strip(" .") if str(exc) else type(exc).__name__
        raise GanforgeError(f"{shown}: not a readable WAV file ({reason}); export it as PCM WAV") from None
    if audio.shape[0] == 0:
        raise GanforgeError(f"{shown}: the WAV file is empty (0 samples); record or export it again")
    mono = audio.mean(axis=1)
    if mono.shape[0] < MIN_CLIP_SECONDS * file_rate:
        raise GanforgeError(f"{shown}: {mono.shape[0] / file_rate:.3f} s is too short (at least "
                            f"{MIN_CLIP_SECONDS} s); use a longer clip")
    if not np.isfinite(mono).all():
        raise GanforgeError(f"{shown}: the WAV file holds NaN or infinite samples; export it again")
    return resample(mono, int(file_rate), rate)


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """``audio`` (1-D float) from ``rate_in`` to ``rate_out`` Hz with a polyphase filter (scipy)."""
    if rate_in == rate_out:
        return audio.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = math.gcd(rate_in, rate_out)
    return resample_poly(audio, rate_out // g, rate_in // g).astype(np.float32)


def wav_bytes(audio: np.ndarray | Tensor, rate: int) -> bytes:
    """16-bit PCM mono WAV bytes of ``audio`` (float in [-1, 1]; louder samples are clipped)."""
    import soundfile

    data = audio.detach().cpu().numpy() if isinstance(audio, Tensor) else np.asarray(audio)
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(data.reshape(-1), -1.0, 1.0), rate, subtype="PCM_16", format="WAV")
    return buffer.getvalue()


def write_wav(path: Path, audio: np.ndarray | Tensor, rate: int) -> Path:
    """Write ``audio`` as a 16-bit PCM mono WAV at ``path`` (parent folders made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wav_bytes(audio, rate))
    return path


def trim_silence(audio: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """``audio`` without leading and trailing samples quieter than ``threshold`` (relative to its peak)."""
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak == 0.0:
        return audio
    loud = np.flatnonzero(np.abs(audio) > threshold * peak)
    return audio[loud[0] : loud[-1] + 1]


# --- spectrograms ----------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def mel_filterbank(rate: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> Tensor:
    """A [n_mels, n_fft // 2 + 1] triangular mel filterbank (HTK mel scale, Slaney area normalization)."""
    fmax = fmax or rate / 2

    def to_mel(f: np.ndarray) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + f / 700.0)

    def to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    freqs = np.linspace(0, rate / 2, n_fft // 2 + 1)
    edges = to_hz(np.linspace(to_mel(np.array(fmin)), to_mel(np.array(fmax)), n_mels + 2))
    lower = (freqs[None, :] - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
    upper = (edges[2:, None] - freqs[None, :]) / (edges[2:, None] - edges[1:-1, None])
    bank = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return torch.from_numpy(bank.astype(np.float32))


def magnitude(audio: Tensor, n_fft: int, hop: int, win: int | None = None, center: bool = True) -> Tensor:
    """|STFT| of [B, T] (or [T]) audio: [B, n_fft // 2 + 1, frames] with a Hann window."""
    win = win or n_fft
    window = torch.hann_window(win, device=audio.device, dtype=audio.dtype)
    spec = torch.stft(audio, n_fft, hop, win, window, center=center, return_complex=True)
    return spec.abs()


class MelSpec:
    """Log-mel spectrogram of audio with fixed settings; ``frames(T) = T // hop`` (audio padded reflectively so
    that a vocoder with upsampling factor ``hop`` gives back exactly ``frames * hop`` samples)."""

    def __init__(self, rate: int, n_fft: int = 1024, hop: int = 256, n_mels: int = 80, fmin: float = 0.0,
                 fmax: float | None = None) -> None:
        self.rate, self.n_fft, self.hop, self.n_mels = rate, n_fft, hop, n_mels
        self.bank = mel_filterbank(rate, n_fft, n_mels, fmin, fmax)

    def __call__(self, audio: Tensor) -> Tensor:
        """[B, T] (or [T]) audio -> [B, n_mels, T // hop] log-mel (natural log, floor 1e-5)."""
        single = audio.dim() == 1
        batch = audio[None] if single else audio
        pad = (self.n_fft - self.hop) // 2
        mode = "reflect" if batch.shape[-1] > pad else "constant"
        padded = torch.nn.functional.pad(batch[:, None], (pad, pad), mode=mode)[:, 0]
        frames = batch.shape[-1] // self.hop
        mag = magnitude(padded, self.n_fft, self.hop, center=False)[..., :frames]
        mel = torch.log(torch.clamp(self.bank.to(mag.device) @ mag, min=1e-5))
        return mel[0] if single else mel

    def to_magnitude(self, mel: Tensor) -> Tensor:
        """An approximate linear magnitude from log-mel (the filterbank's pseudo-inverse, clamped at 0)."""
        inverse = torch.linalg.pinv(self.bank).to(mel.device)
        return torch.clamp(inverse @ torch.exp(mel), min=0.0)


def griffin_lim_angles(mag: Tensor, n_fft: int, hop: int, iters: int = 32, momentum: float = 0.99,
                       seed: int = 0, length: int | None = None) -> Tensor:
    """The unit phasors [B, n_fft // 2 + 1, frames] that fast Griffin-Lim (Perraudin et al. 2013) finds for
    ``mag`` from a seeded random phase; ``istft(mag * angles)`` is its audio."""
    window = torch.hann_window(n_fft, device=mag.device)
    generator = torch.Generator().manual_seed(seed)
    angles = torch.exp(2j * math.pi * torch.rand(mag.shape, generator=generator)).to(mag.device)
    previous = torch.zeros_like(angles)
    length = length or hop * (mag.shape[-1] - 1)
    for _ in range(iters):
        audio = torch.istft(mag * angles, n_fft, hop, n_fft, window, length=length)
        rebuilt = torch.stft(audio, n_fft, hop, n_fft, window, return_complex=True)
        accelerated = rebuilt - (momentum / (1 + momentum)) * previous
        angles = accelerated / accelerated.abs().clamp(min=1e-8)
        previous = rebuilt
    return angles


def griffin_lim(mag: Tensor, n_fft: int, hop: int, iters: int = 32, momentum: float = 0.99,
                seed: int = 0, length: int | None = None) -> Tensor:
    """Audio [B, T] whose |STFT| approximates ``mag`` [B, n_fft // 2 + 1, frames]: fast Griffin-Lim
    (Perraudin et al. 2013) from a seeded random phase."""
    length = length or hop * (mag.shape[-1] - 1)
    angles = griffin_lim_angles(mag, n_fft, hop, iters, momentum, seed, length)
    window = torch.hann_window(n_fft, device=mag.device)
    return torch.istft(mag * angles, n_fft, hop, n_fft, window, length=length)


def mel_griffin_lim(mel: Tensor, spec: MelSpec, iters: int = 32, seed: int = 0) -> Tensor:
    """The Griffin-Lim baseline of a vocoder: log-mel [B, n_mels, F] -> audio [B, F * hop]."""
    mag = spec.to_magnitude(mel)
    frames = mel.shape[-1]
    # MelSpec's frame i is centred on sample i * hop + hop / 2, Griffin-Lim's on i * hop: shift by hop / 2
    mag = torch.cat([mag, mag[..., -1:]], dim=-1)
    audio = griffin_lim(mag, spec.n_fft, spec.hop, iters, seed=seed, length=frames * spec.hop)
    half = spec.hop // 2
    return torch.nn.functional.pad(audio, (half, 0))[..., : frames * spec.hop]
