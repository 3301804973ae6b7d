"""The music family's data: pieces from the chorales or a MIDI folder, split, transposed and cut into rolls.

``build_music_data(config)`` returns a ``MusicData`` with training and held-out segments as boolean rolls
``[n, tracks, steps, pitches]``. The held-out pieces are fixed by file name (``chorales.is_held_out``).
With ``transpose=augment`` the training set holds every segment at every shift in
``-augment_semitones..augment_semitones`` (``RollDataset``), so shifts follow the resumable batch order.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ganforge.errors import GanforgeError
from ganforge.families.music.chorales import VOICES, is_held_out, load_chorales
from ganforge.families.music.config import MusicConfig, MusicDataConfig
from ganforge.families.music.midi import UnreadableMidi, read_piece
from ganforge.families.music.rolls import Grid, Piece, cut_segments, is_monophonic, key_shift, pitch_range

MIDI_SUFFIXES = (".mid", ".midi")
DATA_KINDS = {
    "chorales": "music21's Bach chorales: 4 voices (soprano, alto, tenor, bass), 4/4, parsed once and cached",
    "midi:PATH": "a folder of .mid/.midi files; tracks by instrument or by voice (data.midi_tracks)",
}


@dataclass
class MusicData:
    """Training and held-out rolls and everything needed to turn a roll back into music."""

    name: str
    grid: Grid
    tracks: int
    lowest: int
    pitches: int
    programs: list[int]
    track_names: list[str]
    tempo: float
    monophonic: bool
    train_rolls: np.ndarray  # [n, tracks, steps, pitches] bool
    held_rolls: np.ndarray
    shift: int  # largest augmentation shift (0: none)
    train_pieces: int
    held_pieces: int
    held_out: bool = True  # False: too few pieces to hold any out, held_rolls are the training rolls

    def dataset(self) -> RollDataset:
        return RollDataset(torch.from_numpy(self.train_rolls.astype(np.uint8)), self.shift)


class RollDataset(Dataset):
    """Rolls as uint8 tensors; with ``shift`` k each roll appears 2k+1 times, moved by -k..k pitches."""

    def __init__(self, rolls: torch.Tensor, shift: int = 0) -> None:
        self.rolls = rolls
        self.shift = shift

    def __len__(self) -> int:
        return len(self.rolls) * (2 * self.shift + 1)

    def __getitem__(self, index: int) -> torch.Tensor:
        segment, k = divmod(index, 2 * self.shift + 1)
        roll, move = self.rolls[segment], k - self.shift
        if move == 0:
            return roll
        out = torch.zeros_like(roll)
        if move > 0:
            out[..., move:] = roll[..., :-move]
        else:
            out[..., :move] = roll[..., -move:]
        return out


def grid_of(data: MusicDataConfig) -> Grid:
    return Grid(data.steps_per_beat, data.beats_per_bar, data.bars)


def read_midi_folder(path: Path, data: MusicDataConfig) -> list[Piece]:
    """Every readable MIDI file with notes under ``path`` (recursively); the others are counted in one warning."""
    if not path.is_dir():
        raise GanforgeError(f"midi:{path}: no such folder; give a folder of .mid/.midi files")
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
    if not files:
        raise GanforgeError(f"midi:{path} holds no .mid or .midi files; put MIDI files in it or use data.name=chorales")
    pieces, unreadable, empty = [], 0, 0
    for file in files:
        try:
            piece = read_piece(file, data.steps_per_beat, data.midi_tracks, data.tracks, file.name)
        except UnreadableMidi:
            unreadable += 1
            continue
        if not len(piece.notes):
            empty += 1
            continue
        pieces.append(piece)
    if unreadable or empty:
        print(f"warning: skipped {unreadable + empty} of {len(files)} MIDI files in {path} "
              f"({unreadable} unreadable, {empty} without notes)", file=sys.stderr)
    if not pieces:
        raise GanforgeError(f"midi:{path}: none of its {len(files)} MIDI files has notes that can be read "
                            f"({unreadable} unreadable, {empty} without notes)")
    return pieces


def choose_tracks(pieces: list[Piece], wanted: int | None, source: str) -> tuple[list[Piece], int]:
    """The pieces with the wanted track count (default: the most common one); the others are counted."""
    counts = [p.tracks for p in pieces]
    tracks = wanted or max(set(counts), key=lambda c: (counts.count(c), -c))
    kept = [p for p in pieces if p.tracks == tracks]
    if not kept:
        found = ", ".join(f"{c} tracks: {counts.count(c)} files" for c in sorted(set(counts)))
        raise GanforgeError(f"{source}: no file has data.tracks={wanted} instrument tracks (found {found}); "
                            "set data.tracks to one of those or use data.midi_tracks=voice")
    if len(kept) < len(pieces):
        print(f"warning: skipped {len(pieces) - len(kept)} of {len(pieces)} MIDI files whose track count is "
              f"not {tracks}", file=sys.stderr)
    return kept, tracks


def load_pieces(config: MusicConfig) -> tuple[list[Piece], int, list[str]]:
    """The pieces the config names, their track count and track names."""
    data = config.data
    name = data.name
    if name == "chorales":
        if data.tracks not in (None, len(VOICES)):
            raise GanforgeError(f"the chorales have {len(VOICES)} voices; got data.tracks={data.tracks} "
                                "(leave it unset or use 4)")
        return load_chorales(data.root, data.steps_per_beat), len(VOICES), list(VOICES)
    if name.startswith("midi:"):
        folder = Path(name[len("midi:"):]).expanduser()
        pieces = read_midi_folder(folder, data)
        if data.midi_tracks == "voice":
            tracks = data.tracks or 4
            return pieces, tracks, [f"voice {i + 1}" for i in range(tracks)]
        pieces, tracks = choose_tracks(pieces, data.tracks, name)
        return pieces, tracks, [f"track {i + 1}" for i in range(tracks)]
    raise GanforgeError(f"unknown music data '{name}': use chorales or midi:PATH (a folder of MIDI files)")


def split_pieces(pieces: list[Piece]) -> tuple[list[Piece], list[Piece]]:
    """(training, held-out) by file name; a folder too small to hold any out trains and evaluates on all."""
    held = [p for p in pieces if is_held_out(p.name)]
    train = [p for p in pieces if not is_held_out(p.name)]
    if not held or not train:
        return pieces, pieces
    return train, held


def build_music_data(config: MusicConfig) -> MusicData:
    """Read, split, transpose and cut the data the config names (values the config leaves None come from it)."""
    data = config.data
    grid = grid_of(data)
    pieces, tracks, names = load_pieces(config)
    if data.transpose in ("key", "augment"):  # chorales: music21's key analysis; MIDI: Krumhansl-Schmuckler
        pieces = [p.transposed(key_shift(p.tonic, p.mode)) for p in pieces]
    train, held = split_pieces(pieces)
    shift = data.augment_semitones if data.transpose == "augment" else 0
    low, high = pitch_range(pieces)
    lowest = data.lowest_pitch if data.lowest_pitch is not None else max(low - shift, 0)
    count = data.pitches if data.pitches is not None else min(high + shift, 127) - lowest + 1
    if lowest + count > 128:
        raise GanforgeError(f"data.lowest_pitch={lowest} with data.pitches={count} goes past MIDI pitch 127")
    train_rolls, _ = cut_segments(train, grid, data.hop_bars, tracks, lowest, count)
    held_rolls, _ = cut_segments(held, grid, data.hop_bars, tracks, lowest, count)
    if not len(train_rolls):
        longest = max(p.length for p in pieces) / grid.steps_per_bar
        raise GanforgeError(f"{data.name}: no piece is long enough for one segment of {grid.bars} bars (longest: "
                            f"{longest:.1f} bars); lower data.bars")
    held_out = held is not train and len(held_rolls) > 0
    if not held_out:
        held_rolls = train_rolls
    programs = list(data.programs) if data.programs is not None else _programs(pieces, tracks)
    if len(programs) != tracks or not all(0 <= p <= 127 for p in programs):
        raise GanforgeError(f"data.programs needs {tracks} General MIDI programs in 0..127, got {programs}")
    tempo = data.tempo if data.tempo is not None else float(np.median([p.tempo for p in pieces]))
    track_names = list(data.track_names) if data.track_names is not None else names
    return MusicData(data.name, grid, tracks, lowest, count, programs, track_names, round(tempo, 2),
                     is_monophonic(train_rolls), train_rolls, held_rolls, shift, len(train), len(held), held_out)


def _programs(pieces: list[Piece], tracks: int) -> list[int]:
    """Each track's most common program over the pieces."""
    chosen = []
    for track in range(tracks):
        seen = [p.programs[track] for p in pieces if track < len(p.programs)]
        chosen.append(max(set(seen), key=seen.count) if seen else 0)
    return chosen
