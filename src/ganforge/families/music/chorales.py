"""The Bach chorales of music21's corpus as pieces, parsed once and cached under ``$GANFORGE_DATA``.

Every four-part chorale in 4/4 is kept (soprano, alto, tenor, bass as tracks 0-3); the others are counted.
Parsing all of them takes about a minute, so the notes are cached in ``music/chorales-v{CACHE_VERSION}.npz``;
a change of the cached format bumps the version and the cache is rebuilt.
"""

from __future__ import annotations

import os
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ganforge.data.builtin import data_root
from ganforge.errors import GanforgeError
from ganforge.families.music.rolls import Piece, notes_array

CACHE_VERSION = 1
VOICES = ["soprano", "alto", "tenor", "bass"]
PROGRAMS = [40, 40, 41, 42]  # General MIDI violin, violin, viola, cello: a string quartet plays the voices
TEMPO = 80.0
HELD_OUT_MODULUS = 10  # a chorale is held out for evaluation when crc32(file name) % 10 == 0


def is_held_out(name: str) -> bool:
    """The fixed evaluation split: chorales whose file name's CRC-32 is divisible by 10 (about one in ten)."""
    return zlib.crc32(name.encode()) % HELD_OUT_MODULUS == 0


def cache_path(root: str | Path | None = None) -> Path:
    return data_root(root) / "music" / f"chorales-v{CACHE_VERSION}.npz"


def load_chorales(root: str | Path | None = None, steps_per_beat: int = 4) -> list[Piece]:
    """All cached chorales (parsed on first use), on a grid of ``steps_per_beat`` steps per quarter note."""
    path = cache_path(root)
    if path.is_file():
        try:
            return read_cache(path, steps_per_beat)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            print(f"warning: {path} is unreadable or of another version; parsing the chorales again", file=sys.stderr)
    write_cache(parse_corpus(), path)
    return read_cache(path, steps_per_beat)


def parse_corpus() -> list[tuple[str, list[tuple[int, int, float, float]], float, int, str]]:
    """Every 4-part 4/4 chorale of music21's corpus as (name, notes in quarter notes, first bar, tonic, mode)."""
    try:
        from music21 import corpus
    except ImportError:
        raise GanforgeError("the chorales data set needs music21: pip install 'ganforge[music]' "
                            "(or pip install music21)") from None
    paths = sorted(p for p in corpus.getComposer("bach") if str(p).endswith((".mxl", ".xml")))
    parsed, skipped = [], 0
    print(f"parsing {len(paths)} Bach chorales from music21's corpus (once; cached afterwards)", file=sys.stderr)
    for path in paths:
        item = parse_chorale(path)
        if item is None:
            skipped += 1
        else:
            parsed.append(item)
    if skipped:
        print(f"warning: skipped {skipped} of {len(paths)} corpus files (not four parts in 4/4)", file=sys.stderr)
    return parsed


def parse_chorale(path: Path) -> tuple[str, list[tuple[int, int, float, float]], float, int, str] | None:
    """One chorale's notes (voice, MIDI pitch, start, end in quarter notes), or None when unusable."""
    from music21 import converter, meter

    score = converter.parse(str(path))
    if len(score.parts) != 4:
        return None
    signatures = list(score.recurse().getElementsByClass(meter.TimeSignature))
    if not signatures or any(ts.ratioString != "4/4" for ts in signatures):
        return None
    rows: list[tuple[int, int, float, float]] = []
    for voice, part in enumerate(score.parts):
        for element in part.stripTies().flatten().notes:
            start = float(element.offset)
            end = start + float(element.quarterLength)
            for pitch in element.pitches:
                rows.append((voice, int(pitch.midi), start, end))
    measures = list(score.parts[0].getElementsByClass("Measure"))
    first_bar = next((float(m.offset) for m in measures if float(m.duration.quarterLength) == 4.0), 0.0)
    key = score.analyze("key")
    return Path(path).name, rows, first_bar, int(key.tonic.pitchClass), str(key.mode)


def write_cache(parsed: list[tuple[str, list[tuple[int, int, float, float]], float, int, str]], path: Path) -> None:
    """Save parsed chorales (times in quarter notes, so any grid can be cut from them) atomically."""
    notes = [(i, *row) for i, (_, rows, *_rest) in enumerate(parsed) for row in rows]
    table = np.asarray(notes, dtype=np.float64).reshape(-1, 5)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
    np.savez_compressed(
        tmp, version=np.asarray(CACHE_VERSION), notes=table,
        names=np.asarray([p[0] for p in parsed]), first_bar=np.asarray([p[2] for p in parsed], dtype=np.float64),
        tonic=np.asarray([p[3] for p in parsed], dtype=np.int64), mode=np.asarray([p[4] for p in parsed]),
    )
    os.replace(tmp, path)


def read_cache(path: Path, steps_per_beat: int) -> list[Piece]:
    """The cached chorales on the grid (ValueError for a cache of another version)."""
    with np.load(path, allow_pickle=False) as cache:
        if int(cache["version"]) != CACHE_VERSION:
            raise ValueError(f"{path} holds chorales of cache version {int(cache['version'])}")
        table, names, first_bar = cache["notes"], cache["names"], cache["first_bar"]
        tonic, mode = cache["tonic"], cache["mode"]
    owner = table[:, 0].astype(np.int64)
    steps = np.rint(table[:, 3:5] * steps_per_beat).astype(np.int64)
    pieces = []
    for index, name in enumerate(names):
        mine = owner == index
        rows = [(int(v), int(p), int(a), int(max(b, a + 1)))
                for v, p, a, b in zip(table[mine, 1], table[mine, 2], steps[mine, 0], steps[mine, 1], strict=True)]
        pieces.append(Piece(str(name), notes_array(rows), len(VOICES), int(round(first_bar[index] * steps_per_beat)),
                            int(tonic[index]), str(mode[index]), list(PROGRAMS), TEMPO))
    return pieces
