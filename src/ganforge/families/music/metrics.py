"""Music metrics of binary piano rolls ``[n, tracks, steps, pitches]`` (MuseGAN's and MusPy's kind).

Each function returns one float for a set of rolls; ``docs/music.md`` gives the definitions:

- ``empty_bar_rate``: share of (segment, track, bar) cells with no note.
- ``used_pitch_classes``: distinct pitch classes per (track, bar), over the bars that have notes.
- ``qualified_note_rate``: share of notes (runs of one pitch) at least ``min_steps`` steps long.
- ``polyphony``: pitches sounding at once (all tracks merged), over the steps where something sounds.
- ``in_scale_rate``: per segment, the share of note steps in the best-fitting of the 12 major and
  12 harmonic minor scales; averaged over segments with notes.
- ``tonal_distance``: Euclidean distance between the tonal centroids (Harte et al. 2006) of the chroma of
  two tracks in one bar, over track pairs and bars where both tracks have notes.
- ``nearest_overlap``: for each roll, its largest Jaccard overlap (shared on-cells / cells on in either)
  with any reference roll.
"""

from __future__ import annotations

import numpy as np
import torch

MAJOR = (0, 2, 4, 5, 7, 9, 11)
HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)
METRICS = {
    "empty_bars": "empty-bar rate: share of (track, bar) with no note",
    "pitch_classes": "used pitch classes per bar and track (bars with notes)",
    "qualified_notes": "qualified-note rate: share of notes at least 3 steps long",
    "polyphony": "pitches sounding at once, over steps with a note (all tracks)",
    "in_scale": "share of note steps in the best-fitting major / harmonic minor scale",
    "tonal_distance": "tonal-centroid distance between two tracks in a bar (Harte et al. 2006)",
}


def bars_of(rolls: np.ndarray, steps_per_bar: int) -> np.ndarray:
    """``[n, tracks, steps, pitches]`` -> ``[n, tracks, bars, steps_per_bar, pitches]``."""
    n, tracks, steps, pitches = rolls.shape
    return rolls.reshape(n, tracks, steps // steps_per_bar, steps_per_bar, pitches)


def chroma(rolls: np.ndarray, lowest: int) -> np.ndarray:
    """Note steps per pitch class: ``[..., pitches]`` -> ``[..., 12]``."""
    pitches = rolls.shape[-1]
    fold = np.zeros((pitches, 12))
    fold[np.arange(pitches), (lowest + np.arange(pitches)) % 12] = 1.0
    return rolls.astype(np.float64) @ fold


def empty_bar_rate(rolls: np.ndarray, steps_per_bar: int) -> float:
    return float(1.0 - bars_of(rolls, steps_per_bar).any(axis=(3, 4)).mean())


def used_pitch_classes(rolls: np.ndarray, lowest: int, steps_per_bar: int) -> float:
    per_bar = chroma(bars_of(rolls, steps_per_bar).any(axis=3), lowest) > 0  # [n, tracks, bars, 12]
    counts = per_bar.sum(axis=-1)
    used = counts[counts > 0]
    return float(used.mean()) if used.size else 0.0


def note_lengths(rolls: np.ndarray) -> np.ndarray:
    """The length in steps of every note (run of True steps of one pitch in one track)."""
    runs = np.moveaxis(rolls, -1, -2).astype(np.int8)  # [..., pitches, steps]
    padded = np.zeros((*runs.shape[:-1], runs.shape[-1] + 2), dtype=np.int8)
    padded[..., 1:-1] = runs
    change = np.diff(padded, axis=-1)
    starts = np.nonzero(change.reshape(-1) == 1)[0]  # row-major: ordered by (row, step) alike
    ends = np.nonzero(change.reshape(-1) == -1)[0]
    return ends - starts


def qualified_note_rate(rolls: np.ndarray, min_steps: int = 3) -> float:
    lengths = note_lengths(rolls)
    return float((lengths >= min_steps).mean()) if lengths.size else 0.0


def polyphony(rolls: np.ndarray) -> float:
    counts = rolls.any(axis=1).sum(axis=-1)  # [n, steps]: distinct pitches over all tracks
    sounding = counts[counts > 0]
    return float(sounding.mean()) if sounding.size else 0.0


def scale_masks() -> np.ndarray:
    """24 rows of 12: the major and harmonic minor scales on every tonic."""
    masks = np.zeros((24, 12))
    for tonic in range(12):
        masks[tonic, [(tonic + d) % 12 for d in MAJOR]] = 1
        masks[12 + tonic, [(tonic + d) % 12 for d in HARMONIC_MINOR]] = 1
    return masks


def in_scale_rate(rolls: np.ndarray, lowest: int) -> float:
    histogram = chroma(rolls, lowest).sum(axis=(1, 2))  # [n, 12] note steps per pitch class
    totals = histogram.sum(axis=1)
    keep = totals > 0
    if not keep.any():
        return 0.0
    best = (histogram[keep] @ scale_masks().T).max(axis=1) / totals[keep]
    return float(best.mean())


def tonal_matrix() -> np.ndarray:
    """Harte et al.'s 6x12 map from chroma to the tonal centroid (fifths, minor and major thirds)."""
    angles = np.arange(12)
    rows = [(1.0, 7 * np.pi / 6), (1.0, 3 * np.pi / 2), (0.5, 2 * np.pi / 3)]
    return np.stack([f(angles * step) * r for r, step in rows for f in (np.sin, np.cos)])


def tonal_distance(rolls: np.ndarray, lowest: int, steps_per_bar: int) -> float:
    notes = chroma(bars_of(rolls, steps_per_bar).sum(axis=3), lowest)  # [n, tracks, bars, 12] note steps
    totals = notes.sum(axis=-1, keepdims=True)
    centroids = (notes / np.maximum(totals, 1e-12)) @ tonal_matrix().T  # [n, tracks, bars, 6]
    present = totals[..., 0] > 0
    distances = []
    tracks = rolls.shape[1]
    for i in range(tracks):
        for j in range(i + 1, tracks):
            both = present[:, i] & present[:, j]
            gap = np.linalg.norm(centroids[:, i] - centroids[:, j], axis=-1)
            distances.append(gap[both])
    joined = np.concatenate(distances) if distances else np.zeros(0)
    return float(joined.mean()) if joined.size else 0.0


def all_metrics(rolls: np.ndarray, lowest: int, steps_per_bar: int) -> dict[str, float]:
    """Every metric of ``METRICS`` for a set of rolls."""
    return {
        "empty_bars": empty_bar_rate(rolls, steps_per_bar),
        "pitch_classes": used_pitch_classes(rolls, lowest, steps_per_bar),
        "qualified_notes": qualified_note_rate(rolls),
        "polyphony": polyphony(rolls),
        "in_scale": in_scale_rate(rolls, lowest),
        "tonal_distance": tonal_distance(rolls, lowest, steps_per_bar),
    }


def nearest_overlap(rolls: np.ndarray, reference: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Each roll's largest Jaccard overlap with a reference roll (1.0: an exact copy)."""
    ref = torch.from_numpy(reference.reshape(len(reference), -1).astype(np.float32))
    ref_sizes = ref.sum(dim=1)
    best = []
    for start in range(0, len(rolls), chunk):
        part = torch.from_numpy(rolls[start:start + chunk].reshape(-1, ref.shape[1]).astype(np.float32))
        shared = part @ ref.T
        union = part.sum(dim=1, keepdim=True) + ref_sizes[None, :] - shared
        best.append((shared / union.clamp_min(1.0)).max(dim=1).values)
    return torch.cat(best).numpy() if best else np.zeros(0)
