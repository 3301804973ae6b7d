"""Pieces as note lists, and multi-track piano rolls cut from them.

A *piece* is a list of notes ``(track, pitch, start, end)`` on a time grid of ``steps_per_beat`` steps
per quarter note (end exclusive), plus what the data knows about it (name, key, first full bar). A *roll*
is a boolean array ``[tracks, steps, pitches]``: ``roll[t, s, p]`` is True when track ``t`` sounds pitch
``lowest_pitch + p`` during step ``s``. A roll holds no note boundaries, so a note is a run of True
steps: repeated notes of one pitch merge into one (as in MuseGAN's rolls).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NOTE_COLUMNS = ("track", "pitch", "start", "end")


@dataclass(frozen=True)
class Grid:
    """The time grid of a segment: ``bars`` bars of ``beats_per_bar`` quarter notes of ``steps_per_beat``."""

    steps_per_beat: int = 4
    beats_per_bar: int = 4
    bars: int = 4

    @property
    def steps_per_bar(self) -> int:
        return self.steps_per_beat * self.beats_per_bar

    @property
    def steps(self) -> int:
        return self.steps_per_bar * self.bars


@dataclass
class Piece:
    """One piece of music: notes ``[n, 4]`` int32 (track, pitch, start, end) and its facts."""

    name: str
    notes: np.ndarray
    tracks: int
    first_bar: int = 0  # step where the first full bar starts (after a pickup)
    tonic: int = 0  # pitch class of the key's tonic
    mode: str = "major"
    programs: list[int] = field(default_factory=list)
    tempo: float = 100.0

    @property
    def length(self) -> int:
        return int(self.notes[:, 3].max()) if len(self.notes) else 0

    def transposed(self, shift: int) -> Piece:
        notes = self.notes.copy()
        notes[:, 1] += shift
        return Piece(self.name, notes, self.tracks, self.first_bar, (self.tonic + shift) % 12, self.mode,
                     self.programs, self.tempo)


def key_shift(tonic: int, mode: str) -> int:
    """Semitones (-6..5) that move a key to C major (major keys) or A minor (minor keys)."""
    target = 9 if mode == "minor" else 0
    return (target - tonic + 6) % 12 - 6


# Krumhansl and Kessler's (1982) key profiles: how well each pitch class fits a major / minor key on C
MAJOR_PROFILE = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
MINOR_PROFILE = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


def estimate_key(notes: np.ndarray) -> tuple[int, str]:
    """(tonic pitch class, "major" or "minor") whose profile correlates best with the notes' duration-weighted
    pitch-class histogram (the Krumhansl-Schmuckler method); (0, "major") for no notes."""
    histogram = np.bincount(notes[:, 1] % 12, weights=notes[:, 3] - notes[:, 2], minlength=12) if len(notes) else None
    if histogram is None or histogram.std() == 0:
        return 0, "major"
    best = max(((np.corrcoef(histogram, np.roll(profile, tonic))[0, 1], tonic, mode)
                for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)) for tonic in range(12)))
    return int(best[1]), str(best[2])


def notes_array(rows: list[tuple[int, int, int, int]]) -> np.ndarray:
    """Note tuples -> an int32 array [n, 4] sorted by (start, track, pitch)."""
    if not rows:
        return np.zeros((0, 4), dtype=np.int32)
    array = np.asarray(rows, dtype=np.int32).reshape(-1, 4)
    return array[np.lexsort((array[:, 1], array[:, 0], array[:, 2]))]


def notes_to_roll(notes: np.ndarray, tracks: int, start: int, steps: int, lowest: int, pitches: int) -> np.ndarray:
    """The roll ``[tracks, steps, pitches]`` of the notes sounding in ``[start, start + steps)``; notes outside
    the pitch range or on tracks >= ``tracks`` are left out."""
    roll = np.zeros((tracks, steps, pitches), dtype=bool)
    for track, pitch, on, off in notes:
        row = pitch - lowest
        if track >= tracks or not 0 <= row < pitches:
            continue
        a, b = max(on - start, 0), min(off - start, steps)
        if a < b:
            roll[track, a:b, row] = True
    return roll


def roll_to_notes(roll: np.ndarray, lowest: int) -> np.ndarray:
    """The notes of a roll ``[tracks, steps, pitches]``: every run of True steps of one pitch is one note."""
    tracks, steps, _ = roll.shape
    padded = np.zeros((tracks, steps + 2, roll.shape[2]), dtype=np.int8)
    padded[:, 1:-1] = roll
    change = np.diff(padded, axis=1)  # +1 at an onset (index = start), -1 after the last step (index = end)
    on_t, on_s, on_p = np.nonzero(change == 1)
    off_t, off_s, off_p = np.nonzero(change == -1)
    # nonzero walks in (track, step, pitch) order; sort both by (track, pitch, step) to pair them
    on_order = np.lexsort((on_s, on_p, on_t))
    off_order = np.lexsort((off_s, off_p, off_t))
    rows = np.stack([on_t[on_order], on_p[on_order] + lowest, on_s[on_order], off_s[off_order]], axis=1)
    return notes_array([tuple(int(v) for v in row) for row in rows])


def segment_starts(piece: Piece, grid: Grid, hop_bars: int) -> list[int]:
    """Start steps of the full segments of a piece: from its first full bar, every ``hop_bars`` bars."""
    last = piece.length - grid.steps
    return list(range(piece.first_bar, last + 1, hop_bars * grid.steps_per_bar)) if last >= piece.first_bar else []


def cut_segments(pieces: list[Piece], grid: Grid, hop_bars: int, tracks: int, lowest: int,
                 pitches: int) -> tuple[np.ndarray, np.ndarray]:
    """All segments of the pieces as rolls ``[n, tracks, steps, pitches]`` and the piece index of each;
    segments without any note are dropped."""
    rolls, owners = [], []
    for index, piece in enumerate(pieces):
        for start in segment_starts(piece, grid, hop_bars):
            roll = notes_to_roll(piece.notes, tracks, start, grid.steps, lowest, pitches)
            if roll.any():
                rolls.append(roll)
                owners.append(index)
    if not rolls:
        return np.zeros((0, tracks, grid.steps, pitches), dtype=bool), np.zeros(0, dtype=np.int64)
    return np.stack(rolls), np.asarray(owners, dtype=np.int64)


def pitch_range(pieces: list[Piece]) -> tuple[int, int]:
    """(lowest, highest) MIDI pitch over the pieces' notes."""
    lows = [int(p.notes[:, 1].min()) for p in pieces if len(p.notes)]
    highs = [int(p.notes[:, 1].max()) for p in pieces if len(p.notes)]
    return min(lows), max(highs)


def is_monophonic(rolls: np.ndarray, tolerance: float = 0.01) -> bool:
    """True when at most ``tolerance`` of the sounding (track, step) cells of rolls ``[n, tracks, steps, pitches]``
    hold two or more notes (the chorales have a few divided voices)."""
    counts = rolls.sum(axis=-1)
    sounding = int((counts > 0).sum())
    return sounding > 0 and int((counts > 1).sum()) <= tolerance * sounding
