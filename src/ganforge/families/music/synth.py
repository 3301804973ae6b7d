"""Audio from notes: FluidSynth with a General MIDI SoundFont where installed, else a small built-in synthesizer.

FluidSynth is used when the ``fluidsynth`` program and a SoundFont are found (Debian: ``apt-get install
fluidsynth fluid-soundfont-gm``; or ``$GANFORGE_SOUNDFONT``). The built-in synthesizer (numpy) plays each
note as a few harmonics with a short attack, a gentle decay and a release. ``$GANFORGE_MUSIC_SYNTH`` set
to ``builtin`` or ``fluidsynth`` forces one. Every render says which one was used.
"""

from __future__ import annotations

import io
import math
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from ganforge.errors import GanforgeError

SAMPLE_RATE = 22050
RELEASE_SECONDS = 0.1
SOUNDFONTS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2",
              "/usr/share/soundfonts/default.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2")
HARMONICS = (1.0, 0.5, 0.3, 0.15, 0.08)


def find_soundfont() -> Path | None:
    """``$GANFORGE_SOUNDFONT`` or the first General MIDI SoundFont of the usual Debian places."""
    chosen = os.environ.get("GANFORGE_SOUNDFONT")
    for candidate in ([chosen] if chosen else []) + list(SOUNDFONTS):
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def choose_renderer(renderer: str = "auto") -> str:
    """``fluidsynth`` or ``builtin``: the one asked for (or by ``$GANFORGE_MUSIC_SYNTH``), else the best found."""
    renderer = os.environ.get("GANFORGE_MUSIC_SYNTH", renderer) if renderer == "auto" else renderer
    has_fluidsynth = shutil.which("fluidsynth") is not None and find_soundfont() is not None
    if renderer == "fluidsynth" and not has_fluidsynth:
        raise GanforgeError("FluidSynth or a SoundFont is missing: apt-get install fluidsynth fluid-soundfont-gm "
                            "(or set GANFORGE_MUSIC_SYNTH=builtin)")
    if renderer in ("fluidsynth", "builtin"):
        return renderer
    if renderer != "auto":
        raise GanforgeError(f"unknown synthesizer '{renderer}': use auto, fluidsynth or builtin")
    return "fluidsynth" if has_fluidsynth else "builtin"


def describe_renderer(renderer: str) -> str:
    return f"FluidSynth with {find_soundfont()}" if renderer == "fluidsynth" else "the built-in synthesizer"


def wav_bytes(audio: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    """Mono float audio in [-1, 1] -> a 16-bit PCM WAV file."""
    pcm = np.clip(np.round(audio * 32767), -32768, 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def builtin_audio(notes: np.ndarray, steps: int, tempo: float, steps_per_beat: int,
                  rate: int = SAMPLE_RATE) -> np.ndarray:
    """Notes ``[n, 4]`` (track, pitch, start, end in steps) played for ``steps`` steps plus the release.
    Length: ``ceil((steps * seconds_per_step + RELEASE_SECONDS) * rate)`` samples; peak 0.9 unless silent."""
    step_seconds = 60.0 / tempo / steps_per_beat
    total = math.ceil((steps * step_seconds + RELEASE_SECONDS) * rate)
    audio = np.zeros(total)
    release = int(RELEASE_SECONDS * rate)
    attack = int(0.01 * rate)
    for _, pitch, start, end in notes:
        first = int(round(start * step_seconds * rate))
        held = max(int(round(end * step_seconds * rate)) - first, 1)
        length = min(held + release, total - first)
        if length <= 0:
            continue
        t = np.arange(length) / rate
        frequency = 440.0 * 2.0 ** ((int(pitch) - 69) / 12.0)
        tone = sum(a * np.sin(2 * np.pi * k * frequency * t) for k, a in enumerate(HARMONICS, start=1)
                   if k * frequency < rate / 2)
        envelope = np.exp(-1.5 * t)
        envelope[:attack] *= np.linspace(0.0, 1.0, min(attack, length))[: len(envelope[:attack])]
        tail = np.arange(length) >= held
        envelope[tail] *= np.linspace(1.0, 0.0, int(tail.sum())) if tail.any() else 1.0
        audio[first:first + length] += tone * envelope
    peak = np.abs(audio).max() if len(audio) else 0.0
    return audio * (0.9 / peak) if peak > 0 else audio


def fluidsynth_wav(midi: bytes, rate: int = SAMPLE_RATE) -> bytes:
    """A MIDI file rendered by the fluidsynth program with the General MIDI SoundFont."""
    soundfont = find_soundfont()
    with tempfile.TemporaryDirectory(prefix="ganforge-music-") as folder:
        source, target = Path(folder) / "in.mid", Path(folder) / "out.wav"
        source.write_bytes(midi)
        command = ["fluidsynth", "-ni", "-q", "-g", "0.8", "-r", str(rate), "-T", "wav", "-F", str(target),
                   str(soundfont), str(source)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0 or not target.is_file():
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise GanforgeError(f"fluidsynth failed ({last[0]}); set GANFORGE_MUSIC_SYNTH=builtin to use the "
                                "built-in synthesizer")
        return target.read_bytes()


def render_wav(notes: np.ndarray, midi: bytes, steps: int, tempo: float, steps_per_beat: int,
               renderer: str = "auto") -> tuple[bytes, str]:
    """WAV bytes of the notes (or of ``midi``, their MIDI file, for FluidSynth) and the renderer's name."""
    chosen = choose_renderer(renderer)
    if chosen == "fluidsynth":
        return fluidsynth_wav(midi), chosen
    return wav_bytes(builtin_audio(notes, steps, tempo, steps_per_beat)), chosen
