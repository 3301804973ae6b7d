"""MIDI in and out (with mido): pieces from Standard MIDI Files, and MIDI files from note lists.

Reading quantizes every note to the grid (``steps_per_beat`` steps per quarter note). Tracks are taken
by instrument (each (MIDI track, channel) pair with notes, in file order, drums left out) or by voice
(all notes pooled and, at every step, the k-th highest sounding pitch given to voice k).
Writing makes a type-1 file: a tempo track, then one track per roll track with its own channel,
program and name, ``TICKS_PER_BEAT`` ticks per quarter note.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from ganforge.families.music.rolls import Piece, estimate_key, notes_array, notes_to_roll, roll_to_notes

TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9
VELOCITY = 80


class UnreadableMidi(Exception):
    """A file that is not a readable MIDI file (counted and skipped by the folder reader)."""


def channel_for(track: int) -> int:
    """MIDI channel of roll track ``track`` (the drum channel 9 is skipped)."""
    channel = track % 15
    return channel + 1 if channel >= DRUM_CHANNEL else channel


def midi_bytes(notes: np.ndarray, tracks: int, programs: list[int], tempo: float, steps_per_beat: int,
               names: list[str] | None = None) -> bytes:
    """A type-1 Standard MIDI File of notes ``[n, 4]`` (track, pitch, start, end in steps)."""
    import mido

    ticks = TICKS_PER_BEAT // steps_per_beat
    song = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    meta.append(mido.MetaMessage("end_of_track", time=0))
    song.tracks.append(meta)
    for track in range(tracks):
        channel = channel_for(track)
        events: list[tuple[int, int, int]] = []  # (tick, 0 = off first / 1 = on, pitch)
        for _, pitch, start, end in notes[notes[:, 0] == track]:
            events.append((int(start) * ticks, 1, int(pitch)))
            events.append((int(end) * ticks, 0, int(pitch)))
        events.sort()
        out = mido.MidiTrack()
        if names and track < len(names):
            out.append(mido.MetaMessage("track_name", name=names[track], time=0))
        out.append(mido.Message("program_change", program=programs[track] if track < len(programs) else 0,
                                channel=channel, time=0))
        now = 0
        for tick, kind, pitch in events:
            msg = "note_on" if kind else "note_off"
            out.append(mido.Message(msg, note=pitch, velocity=VELOCITY if kind else 0, channel=channel,
                                    time=tick - now))
            now = tick
        out.append(mido.MetaMessage("end_of_track", time=0))
        song.tracks.append(out)
    buffer = io.BytesIO()
    song.save(file=buffer)
    return buffer.getvalue()


def roll_midi_bytes(roll: np.ndarray, lowest: int, programs: list[int], tempo: float, steps_per_beat: int,
                    names: list[str] | None = None) -> bytes:
    """A MIDI file of one roll ``[tracks, steps, pitches]``."""
    return midi_bytes(roll_to_notes(roll, lowest), roll.shape[0], programs, tempo, steps_per_beat, names)


def _open(source: str | Path | bytes) -> Any:
    import mido

    try:
        if isinstance(source, bytes):
            return mido.MidiFile(file=io.BytesIO(source))
        return mido.MidiFile(str(source))
    except Exception as exc:  # mido raises many kinds (OSError, EOFError, ValueError, KeyError, ...)
        raise UnreadableMidi(f"{exc.__class__.__name__}: {exc}") from None


def read_instruments(source: str | Path | bytes, steps_per_beat: int
                     ) -> tuple[list[list[tuple[int, int, int]]], list[int], float]:
    """Per instrument, its notes (pitch, start, end in steps); each instrument's program; the first tempo."""
    import mido

    song = _open(source)
    if song.type == 2:
        raise UnreadableMidi("type-2 MIDI files (independent sequences) are not supported")
    scale = steps_per_beat / song.ticks_per_beat
    groups: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
    programs: dict[tuple[int, int], int] = {}
    tempo = None
    for index, track in enumerate(song.tracks):
        now, sounding, program = 0, {}, {}
        for msg in track:
            now += msg.time
            if msg.type == "set_tempo" and tempo is None:
                tempo = mido.tempo2bpm(msg.tempo)
            if msg.type == "program_change":
                program[msg.channel] = msg.program
            if msg.type not in ("note_on", "note_off") or msg.channel == DRUM_CHANNEL:
                continue
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                sounding.setdefault(key, now)
            elif key in sounding:
                start = sounding.pop(key)
                a, b = round(start * scale), round(now * scale)
                groups.setdefault((index, msg.channel), []).append((msg.note, a, max(b, a + 1)))
                programs.setdefault((index, msg.channel), program.get(msg.channel, 0))
    order = sorted(groups, key=lambda k: (k[0], k[1]))
    return [groups[k] for k in order], [programs[k] for k in order], float(tempo or 120.0)


def read_piece(source: str | Path | bytes, steps_per_beat: int, mode: str, tracks: int | None,
               name: str = "") -> Piece:
    """A piece from a MIDI file. ``mode`` "instrument": one track per instrument (``tracks`` None keeps them
    all); "voice": all notes split into ``tracks`` voices, highest first."""
    instruments, programs, tempo = read_instruments(source, steps_per_beat)
    if mode == "instrument":
        notes = notes_array([(t, p, a, b) for t, notes in enumerate(instruments) for p, a, b in notes])
        return Piece(name, notes, len(instruments), 0, *estimate_key(notes), programs, tempo)
    voices = tracks or 4
    pooled = notes_array([(0, p, a, b) for notes in instruments for p, a, b in notes])
    if not len(pooled):
        return Piece(name, pooled, voices, 0, 0, "major", [programs[0] if programs else 0] * voices, tempo)
    merged = notes_to_roll(pooled, 1, 0, int(pooled[:, 3].max()), 0, 128)[0]  # [steps, 128]
    split = np.zeros((voices, *merged.shape), dtype=bool)
    for step in np.nonzero(merged.any(axis=1))[0]:
        for voice, pitch in enumerate(np.nonzero(merged[step])[0][::-1][:voices]):
            split[voice, step, pitch] = True
    program = max(set(programs), key=programs.count) if programs else 0
    notes = roll_to_notes(split, 0)
    return Piece(name, notes, voices, 0, *estimate_key(notes), [program] * voices, tempo)
