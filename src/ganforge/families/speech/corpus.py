"""Offline speech corpora made with the espeak-ng synthesizer, cached under $GANFORGE_DATA with a manifest.

``spoken-digits``: "zero" ... "nine" (labelled, like SC09) and ``speech-corpus``: sentences, both spoken by
English accents x voice variants with pitch and speed varied per take. A voice is one (accent, variant)
pair; every sixth voice of a fixed shuffled order is held out for evaluation, so held-out voices are never
heard in training.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganforge.errors import GanforgeError

CORPUS_VERSION = 1
ESPEAK_RATE = 22050
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
HELD_OUT_EVERY = 6  # voice k of the shuffled order is held out when k % 6 == 5
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
    "The salt breeze came across from the sea.",
    "The girl at the booth sold fifty bonds.",
    "The small pup gnawed a hole in the sock.",
    "The fish twisted and turned on the bent hook.",
    "Press the pants and sew a button on the vest.",
    "The swan dive was far short of perfect.",
    "The beauty of the view stunned the young boy.",
    "Two blue fish swam in the tank.",
    "Her purse was full of useless trash.",
    "The colt reared and threw the tall rider.",
    "It snowed, rained, and hailed the same morning.",
    "Read verse out loud for pleasure.",
    "Hoist the load to your left shoulder.",
    "Take the winding path to reach the lake.",
    "Note closely the size of the gas tank.",
)
CORPORA = {
    "spoken-digits": "'zero'..'nine' by espeak-ng voices, pitches and speeds (made offline; held-out voices)",
    "speech-corpus": "sentences by espeak-ng voices, pitches and speeds (made offline; held-out voices)",
}


@dataclass(frozen=True)
class Voice:
    accent: str
    variant: str
    held_out: bool

    @property
    def name(self) -> str:
        return f"{self.accent}+{self.variant}"


def voices(count: int = 0) -> list[Voice]:
    """The first ``count`` voices (0: all 96) of a fixed shuffled order, every sixth one held out."""
    pairs = [(a, v) for v in VARIANTS for a in ACCENTS]
    order = np.random.default_rng(1234).permutation(len(pairs))
    chosen = [pairs[i] for i in order][: count or len(pairs)]
    return [Voice(a, v, k % HELD_OUT_EVERY == HELD_OUT_EVERY - 1) for k, (a, v) in enumerate(chosen)]


def espeak_binary() -> str:
    """The espeak-ng program, or a GanforgeError naming the Debian package that provides it."""
    found = shutil.which("espeak-ng")
    if found is None:
        raise GanforgeError("the spoken-digits and speech-corpus data are made with the espeak-ng synthesizer, "
                            "which is not installed: apt-get install espeak-ng (Debian package espeak-ng), "
                            "or train on your own recordings with data.name=wav:PATH")
    return found


def synthesize(text: str, voice: str, pitch: int, speed: int, rate: int) -> np.ndarray:
    """``text`` spoken by espeak-ng ``voice`` (pitch 0-99, speed in words per minute), mono float32 at ``rate``."""
    import soundfile

    from ganforge.families.speech.audio import resample

    command = [espeak_binary(), "-v", voice, "-p", str(pitch), "-s", str(speed), "--stdout", text]
    result = subprocess.run(command, capture_output=True, check=False, timeout=60)
    if result.returncode != 0 or not result.stdout:
        message = result.stderr.decode(errors="replace").strip() or f"exit code {result.returncode}"
        raise GanforgeError(f"espeak-ng failed for voice {voice}: {message}")
    audio, file_rate = soundfile.read(io.BytesIO(result.stdout), dtype="float32")
    return resample(audio, int(file_rate), rate)


@dataclass
class Corpus:
    """Clips (mono float32 at ``rate``) with their text, label (digits; -1 otherwise), voice and split."""

    rate: int
    clips: list[np.ndarray]
    texts: list[str]
    labels: np.ndarray
    voices: list[str]
    held_out: np.ndarray  # bool per clip
    classes: tuple[str, ...]
    source: str


def _plan(name: str, count: int, takes: int, seed: int = 0) -> list[dict]:
    """Every clip to synthesize: text, label, voice, pitch, speed and split, in a fixed order."""
    rng = np.random.default_rng(seed)
    plan = []
    for voice in voices(count):
        if name == "spoken-digits":
            items = [(word, label) for label, word in enumerate(DIGIT_WORDS) for _ in range(takes)]
        else:
            picks = rng.permutation(len(SENTENCES))[:takes]
            items = [(SENTENCES[i], -1) for i in picks]
        for text, label in items:
            plan.append({"text": text, "label": label, "voice": voice.name, "held_out": voice.held_out,
                         "pitch": int(rng.integers(25, 76)), "speed": int(rng.integers(130, 191))})
    return plan


def corpus_folder(root: Path, name: str, rate: int, count: int, takes: int) -> Path:
    key = hashlib.sha1(json.dumps([name, CORPUS_VERSION, rate, count, takes]).encode()).hexdigest()[:10]
    return root / "speech" / f"{name}-v{CORPUS_VERSION}-{key}"


def make_corpus(name: str, root: Path, rate: int, count: int = 0, takes: int = 3) -> Corpus:
    """The ``name`` corpus (``spoken-digits`` or ``speech-corpus``) from its cache, made first when missing."""
    if name not in CORPORA:
        raise GanforgeError(f"unknown speech corpus '{name}'; known: {', '.join(CORPORA)}")
    folder = corpus_folder(root, name, rate, count, takes)
    if not (folder / "manifest.json").is_file():
        _build(name, folder, rate, count, takes)
    return _load(folder, name)


def _build(name: str, folder: Path, rate: int, count: int, takes: int) -> None:
    from ganforge.families.speech.audio import trim_silence

    plan = _plan(name, count, takes)
    print(f"making the {name} corpus with espeak-ng ({len(plan)} clips, once) in {folder}", flush=True)
    clips = []
    for item in plan:
        audio = synthesize(item["text"], item["voice"], item["pitch"], item["speed"], rate)
        clips.append(trim_silence(audio))
    lengths = [len(c) for c in clips]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    samples = np.concatenate(clips) if clips else np.zeros(0, np.float32)
    tmp = folder.with_name(folder.name + ".partial")
    tmp.mkdir(parents=True, exist_ok=True)
    np.save(tmp / "audio.npy", np.round(np.clip(samples, -1, 1) * 32767).astype(np.int16))
    np.save(tmp / "offsets.npy", offsets)
    manifest = {"name": name, "version": CORPUS_VERSION, "rate": rate, "synthesizer": "espeak-ng",
                "classes": list(DIGIT_WORDS) if name == "spoken-digits" else [], "clips": plan}
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1))
    if folder.exists():
        shutil.rmtree(folder)
    tmp.rename(folder)


def _load(folder: Path, name: str) -> Corpus:
    manifest = json.loads((folder / "manifest.json").read_text())
    samples = np.load(folder / "audio.npy").astype(np.float32) / 32767.0
    offsets = np.load(folder / "offsets.npy")
    plan = manifest["clips"]
    clips = [samples[offsets[i] : offsets[i + 1]] for i in range(len(plan))]
    return Corpus(int(manifest["rate"]), clips, [c["text"] for c in plan],
                  np.array([c["label"] for c in plan], dtype=np.int64), [c["voice"] for c in plan],
                  np.array([c["held_out"] for c in plan], dtype=bool), tuple(manifest["classes"]), name)
