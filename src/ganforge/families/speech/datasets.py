"""Speech training data: the espeak-ng corpora or a folder of WAVs (``wav:PATH``), and the torch data sets
the recipes read (fixed-length waveforms with labels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ganforge.errors import GanforgeError
from ganforge.families.speech.audio import read_wav, trim_silence
from ganforge.families.speech.corpus import CORPORA, Corpus, make_corpus

WAV_SUFFIXES = (".wav", ".wave")
HELD_OUT_EVERY_FILE = 10  # wav:PATH: every tenth file is held out for evaluation


def data_kinds() -> dict[str, str]:
    return {**CORPORA, "wav:PATH": "a folder of WAV files (any rate, mono or stereo); first-level subfolders "
                                   "become classes; every tenth file is held out"}


def load_corpus(name: str, root: str | None, rate: int, min_samples: int, voices: int = 0,
                takes: int = 3) -> Corpus:
    """The data ``name`` names: an espeak-ng corpus or ``wav:PATH``."""
    from ganforge.data.builtin import data_root

    if name.startswith("wav:"):
        return load_wav_folder(Path(name[4:]).expanduser(), rate, min_samples)
    if name in CORPORA:
        return make_corpus(name, data_root(root), rate, voices, takes)
    raise GanforgeError(f"unknown speech data '{name}'; use one of {', '.join(data_kinds())}")


def load_wav_folder(folder: Path, rate: int, min_samples: int) -> Corpus:
    """Every WAV under ``folder`` at ``rate`` Hz (mono). Unreadable, empty or too-short files are skipped and
    counted in one warning line; first-level subfolders are classes when every file lies in one."""
    if not folder.is_dir():
        raise GanforgeError(f"wav:{folder}: no such folder; give wav:PATH with a folder of .wav files")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in WAV_SUFFIXES)
    if not files:
        raise GanforgeError(f"wav:{folder}: no .wav files in the folder (or its subfolders)")
    labelled = all(len(p.relative_to(folder).parts) >= 2 for p in files)
    classes = tuple(sorted({p.relative_to(folder).parts[0] for p in files})) if labelled else ()
    clips, labels, names, skipped = [], [], [], []
    for path in files:
        try:
            audio = trim_silence(read_wav(path, rate))
        except GanforgeError as exc:
            skipped.append((path, str(exc).split(": ", 1)[-1]))
            continue
        if len(audio) < min_samples:
            skipped.append((path, f"shorter than one training segment ({min_samples} samples at {rate} Hz)"))
            continue
        clips.append(audio)
        labels.append(classes.index(path.relative_to(folder).parts[0]) if labelled else -1)
        names.append(path.relative_to(folder).as_posix())
    if skipped:
        example, why = skipped[0]
        print(f"warning: skipped {len(skipped)} of {len(files)} WAV file(s) in {folder} "
              f"(e.g. {example.relative_to(folder).as_posix()}: {why})", flush=True)
    if not clips:
        raise GanforgeError(f"wav:{folder}: none of the {len(files)} WAV files is usable (see the warning above)")
    held = np.arange(len(clips)) % HELD_OUT_EVERY_FILE == HELD_OUT_EVERY_FILE - 1
    return Corpus(rate, clips, names, np.array(labels, dtype=np.int64), names, held, classes, f"wav:{folder}")


def fit_clip(audio: np.ndarray, length: int) -> np.ndarray:
    """``audio`` centred in ``length`` samples (zero padding), or its middle ``length`` samples when longer."""
    if len(audio) >= length:
        start = (len(audio) - length) // 2
        return audio[start : start + length]
    out = np.zeros(length, dtype=np.float32)
    start = (length - len(audio)) // 2
    out[start : start + len(audio)] = audio
    return out


class ClipDataset(Dataset):
    """Whole clips fitted to ``length`` samples, with labels: the spoken-digit training set."""

    def __init__(self, corpus: Corpus, indices: np.ndarray, length: int) -> None:
        self.audio = torch.from_numpy(np.stack([fit_clip(corpus.clips[i], length) for i in indices]))
        self.labels = torch.from_numpy(np.maximum(corpus.labels[indices], 0))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.audio[index], self.labels[index]


class SegmentDataset(Dataset):
    """Fixed segments of ``length`` samples cut from every clip at a stride of half a segment: the vocoder's
    training set (deterministic, so a resumed run sees the same segments)."""

    def __init__(self, corpus: Corpus, indices: np.ndarray, length: int) -> None:
        pieces = []
        for i in indices:
            clip = corpus.clips[i]
            for start in range(0, len(clip) - length + 1, max(1, length // 2)):
                pieces.append(clip[start : start + length])
        if not pieces:
            raise GanforgeError(f"no clip is as long as one training segment ({length} samples); "
                                "lower data.segment or use longer recordings")
        self.audio = torch.from_numpy(np.stack(pieces))
        self.labels = torch.zeros(len(pieces), dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.audio)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.audio[index], self.labels[index]


def collate_audio(items: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """A list of (waveform, label) -> ([B, T] float32, [B] int64)."""
    return torch.stack([a for a, _ in items]), torch.stack([y for _, y in items])
