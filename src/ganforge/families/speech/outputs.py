"""Audio outputs shared by the speech families: a batch of clips, writing it as WAV files, and the training
preview that writes samples/step-NNNNNNN.wav and samples/latest.wav."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganforge.families.speech.audio import write_wav
from ganforge.training.callbacks import Preview

GAP_SECONDS = 0.25  # silence between clips joined into one .wav


@dataclass
class AudioClips:
    """Generated or vocoded clips (mono float32 in [-1, 1]) with a file stem each, at ``rate`` Hz."""

    clips: list[np.ndarray]
    names: list[str]
    rate: int

    def __len__(self) -> int:
        return len(self.clips)

    def joined(self) -> np.ndarray:
        """All clips in one track, a short silence between them."""
        gap = np.zeros(int(GAP_SECONDS * self.rate), dtype=np.float32)
        parts: list[np.ndarray] = []
        for i, clip in enumerate(self.clips):
            parts.extend([gap, clip] if i else [clip])
        return np.concatenate(parts) if parts else gap


def write_clips(samples: AudioClips, out: Path, kind: str) -> str:
    """``kind`` ".wav": one file (clips joined); "/": one WAV per clip named by its stem."""
    if kind == ".wav":
        write_wav(out, samples.joined(), samples.rate)
        return f"wrote {len(samples)} clip(s) to {out} ({samples.rate} Hz)"
    out.mkdir(parents=True, exist_ok=True)
    for clip, name in zip(samples.clips, samples.names, strict=True):
        write_wav(out / f"{name}.wav", clip, samples.rate)
    return f"wrote {len(samples)} WAV file(s) to {out}/ ({samples.rate} Hz)"


def spectrogram_picture(audio: torch.Tensor, n_fft: int = 256, hop: int = 64) -> torch.Tensor:
    """[B, T] audio -> [B, 1, n_fft / 2, frames] log-magnitude pictures in [-1, 1], low frequencies at the bottom
    (each scaled to its own 80 dB range)."""
    from ganforge.families.speech.audio import magnitude

    mag = magnitude(audio.float(), n_fft, hop)[:, : n_fft // 2]
    db = 20 * torch.log10(mag.clamp(min=1e-5))
    db = torch.maximum(db, db.amax(dim=(1, 2), keepdim=True) - 80)
    low, high = db.amin(dim=(1, 2), keepdim=True), db.amax(dim=(1, 2), keepdim=True)
    return ((db - low) / (high - low).clamp(min=1e-6) * 2 - 1).flip(1)[:, None]


class AudioPreview(Preview):
    """Every ``every`` steps and at the end: ``render()``'s clips joined into samples/step-NNNNNNN.wav (from a
    fixed input, so previews are comparable) with their spectrograms in step-NNNNNNN.png, copied to
    samples/latest.wav and samples/latest.png."""

    def __init__(self, folder: Path, render: Callable[[], AudioClips], every: int) -> None:
        def write(stem: Path) -> list[Path]:
            from ganforge.viz import save_grid

            with torch.no_grad():
                clips = render()
            wav = write_wav(stem.with_suffix(".wav"), clips.joined(), clips.rate)
            length = min(len(c) for c in clips.clips)
            audio = torch.from_numpy(np.stack([c[:length] for c in clips.clips]))
            picture = save_grid(spectrogram_picture(audio), stem.with_suffix(".png"), nrow=len(clips))
            return [wav, picture]

        super().__init__(folder, write, every)
