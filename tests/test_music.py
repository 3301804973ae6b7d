"""The music family: rolls <-> MIDI, the metrics on hand-made rolls, baselines, audio, bad input, and a tiny
run on a generated MIDI folder (train, resume exactly, sample to every output, evaluate, serve)."""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.families import load_config
from ganforge.families.music import metrics
from ganforge.families.music.baselines import markov_rolls, random_rolls
from ganforge.families.music.chorales import is_held_out
from ganforge.families.music.midi import midi_bytes, read_piece
from ganforge.families.music.rolls import key_shift, notes_array, notes_to_roll, roll_to_notes
from ganforge.families.music.synth import RELEASE_SECONDS, SAMPLE_RATE, builtin_audio, choose_renderer, wav_bytes


def hand_made_roll() -> np.ndarray:
    """3 tracks, 32 steps, 24 pitches from MIDI 48: repeated notes with gaps, a chord, long and short notes."""
    roll = np.zeros((3, 32, 24), dtype=bool)
    roll[0, 0:4, 12] = True
    roll[0, 5:6, 12] = True  # the same pitch again after a rest
    roll[0, 6:20, 14] = True
    roll[1, 0:32, 0] = True  # one note over the whole roll
    roll[2, 8:12, [3, 7, 10]] = True  # a chord
    roll[2, 30:32, 23] = True  # up to the last step and the top row
    return roll


def read_roll(data: bytes, tracks: int, steps: int, lowest: int, pitches: int) -> np.ndarray:
    piece = read_piece(data, 4, "instrument", None)
    return notes_to_roll(piece.notes, tracks, 0, steps, lowest, pitches)


# --- rolls and MIDI --------------------------------------------------------------------------------------


def test_roll_midi_roll_round_trip_is_exact():
    roll = hand_made_roll()
    notes = roll_to_notes(roll, 48)
    assert len(notes) == 8
    data = midi_bytes(notes, 3, [40, 41, 42], 90.0, 4, ["a", "b", "c"])
    assert data[:4] == b"MThd"
    assert np.array_equal(read_roll(data, 3, 32, 48, 24), roll)
    piece = read_piece(data, 4, "instrument", None)
    assert piece.programs == [40, 41, 42] and piece.tempo == pytest.approx(90.0)


def test_voice_split_gives_the_highest_pitch_to_the_first_voice():
    chord = notes_array([(0, 60, 0, 4), (0, 64, 0, 4), (0, 67, 0, 2)])
    piece = read_piece(midi_bytes(chord, 1, [0], 120.0, 4), 4, "voice", 3)
    roll = notes_to_roll(piece.notes, 3, 0, 4, 60, 8)
    assert roll[0, :2, 7].all() and roll[0, 2:, 4].all()  # G, then E once G stops
    assert roll[1, :2, 4].all() and roll[1, 2:, 0].all()
    assert roll[2, :2, 0].all() and not roll[2, 2:].any()


def test_key_shift_and_held_out_split_are_fixed():
    assert key_shift(7, "major") == 5 and key_shift(2, "major") == -2 and key_shift(9, "minor") == 0
    assert key_shift(4, "minor") == 5
    names = [f"bwv{i}.mxl" for i in range(200)]
    held = [n for n in names if is_held_out(n)]
    assert held == [n for n in names if is_held_out(n)] and 5 < len(held) < 40


# --- metrics on hand-made rolls ----------------------------------------------------------------------------


def one_track(steps: int, pitches: int, cells: list[tuple[int, int, int]]) -> np.ndarray:
    """A batch of one roll with one track; cells are (pitch row, first step, end step)."""
    roll = np.zeros((1, 1, steps, pitches), dtype=bool)
    for row, a, b in cells:
        roll[0, 0, a:b, row] = True
    return roll


def test_empty_bars_pitch_classes_and_qualified_notes():
    # 3 bars of 4 steps, rows from MIDI 60: bar 1 C E G, bar 2 empty, bar 3 C4 and C5
    roll = one_track(12, 13, [(0, 0, 1), (4, 1, 3), (7, 3, 4), (0, 8, 12), (12, 8, 9)])
    assert metrics.empty_bar_rate(roll, 4) == pytest.approx(1 / 3)
    assert metrics.used_pitch_classes(roll, 60, 4) == pytest.approx((3 + 1) / 2)
    # note lengths 1, 2, 1, 4, 1: one of five is at least 3 steps
    assert sorted(metrics.note_lengths(roll).tolist()) == [1, 1, 1, 2, 4]
    assert metrics.qualified_note_rate(roll) == pytest.approx(1 / 5)


def test_polyphony_counts_distinct_pitches_over_sounding_steps():
    roll = np.zeros((1, 2, 4, 8), dtype=bool)
    roll[0, 0, 0, 1] = True  # step 0: 1 pitch
    roll[0, 0, 1, [1, 2]] = True
    roll[0, 1, 1, [2, 5]] = True  # step 1: pitches 1, 2, 5 (2 shared by both tracks)
    assert metrics.polyphony(roll) == pytest.approx((1 + 3) / 2)  # step 2 and 3 are silent


def test_in_scale_rate_picks_the_best_scale():
    # C D E F G A B and C#, one step each, from MIDI 60: C major holds 7 of 8
    roll = one_track(8, 12, [(p, i, i + 1) for i, p in enumerate([0, 2, 4, 5, 7, 9, 11, 1])])
    assert metrics.in_scale_rate(roll, 60) == pytest.approx(7 / 8)
    assert metrics.in_scale_rate(one_track(3, 12, [(0, 0, 1), (4, 1, 2), (7, 2, 3)]), 60) == pytest.approx(1.0)


def test_tonal_distance_of_a_tritone_and_of_unisons():
    roll = np.zeros((1, 2, 4, 12), dtype=bool)
    roll[0, 0, :, 0] = True  # C
    roll[0, 1, :, 6] = True  # F#: opposite C on the circles of fifths and minor thirds, equal on major thirds
    assert metrics.tonal_distance(roll, 60, 4) == pytest.approx(math.sqrt(2.0**2 + 2.0**2))
    roll[0, 1, :, 6], roll[0, 1, :, 0] = False, True
    assert metrics.tonal_distance(roll, 60, 4) == pytest.approx(0.0)
    roll[0, 1] = False  # a silent track adds no pair
    assert metrics.tonal_distance(roll, 60, 4) == 0.0


def test_nearest_overlap_is_jaccard():
    a = one_track(4, 4, [(0, 0, 4)])
    b = one_track(4, 4, [(0, 0, 2)])
    c = one_track(4, 4, [(3, 0, 4)])
    best = metrics.nearest_overlap(np.concatenate([a, b, c]), np.concatenate([a, c]))
    assert best.tolist() == pytest.approx([1.0, 0.5, 1.0])
    assert metrics.nearest_overlap(b, c).tolist() == [0.0]


def test_baselines():
    train = np.zeros((20, 1, 16, 6), dtype=bool)
    for s in range(16):
        train[:, 0, s, s % 3] = True  # every segment: rows 0, 1, 2, 0, 1, 2, ...
    chain = markov_rolls(train, 5, seed=1)
    assert np.array_equal(chain, np.repeat(train[:1], 5, axis=0))  # a deterministic chain is copied
    noise = random_rolls(train, 400, seed=1)
    assert noise[..., 3:].sum() == 0
    assert noise.mean() == pytest.approx(train.mean(), abs=0.01)


# --- binarization -------------------------------------------------------------------------------------------


def test_monophonic_binarization_picks_a_pitch_or_the_rest():
    from ganforge.families.music.generate import binarize
    from ganforge.families.music.nets import straight_through

    probs = torch.tensor([[[[0.5, 0.3, 0.1], [0.2, 0.2, 0.1]]]])  # 2 steps; the rest has 0.1, then 0.5
    notes = binarize(probs, "threshold", 0.5, True, seed=0)
    assert notes.tolist() == [[[[True, False, False], [False, False, False]]]]
    drawn = [binarize(probs.expand(200, 1, 2, 3), "bernoulli", 0.5, True, seed=s) for s in (1, 1, 2)]
    assert np.array_equal(drawn[0], drawn[1]) and not np.array_equal(drawn[0], drawn[2])
    assert drawn[0].sum(axis=-1).max() == 1 and 0.35 < drawn[0][:, 0, 0, 0].mean() < 0.65
    assert (binarize(probs, "threshold", 0.25, False, 0) == (probs > 0.25).numpy()).all()
    soft = probs.clone().requires_grad_(True)
    hard = straight_through(soft, monophonic=True)
    assert hard.tolist() == [[[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]]
    (hard * torch.arange(3.0)).sum().backward()
    assert soft.grad.tolist() == [[[[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]]]]


# --- audio ---------------------------------------------------------------------------------------------------


def test_builtin_wav_is_not_silent_and_as_long_as_the_notes():
    notes = roll_to_notes(hand_made_roll(), 48)
    audio = builtin_audio(notes, 32, 120.0, 4)
    assert len(audio) == math.ceil((32 * 0.125 + RELEASE_SECONDS) * SAMPLE_RATE)
    assert 0.85 < np.abs(audio).max() <= 0.9 + 1e-9
    with wave.open(io.BytesIO(wav_bytes(audio)), "rb") as w:
        assert w.getnframes() == len(audio) and w.getframerate() == SAMPLE_RATE and w.getsampwidth() == 2
    assert choose_renderer("builtin") == "builtin"
    with pytest.raises(GanforgeError, match="unknown synthesizer"):
        choose_renderer("nope")


def test_fluidsynth_wav_is_not_silent_and_covers_the_music():
    import shutil

    from ganforge.families.music.synth import find_soundfont, fluidsynth_wav

    if shutil.which("fluidsynth") is None or find_soundfont() is None:
        pytest.skip("fluidsynth and a General MIDI SoundFont are not installed")
    notes = roll_to_notes(hand_made_roll(), 48)
    data = fluidsynth_wav(midi_bytes(notes, 3, [40, 41, 42], 120.0, 4))
    with wave.open(io.BytesIO(data), "rb") as w:
        seconds = w.getnframes() / w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert 4.0 <= seconds < 4.0 + 5.0  # 32 steps of 1/8 s, then the instruments' release
    assert np.abs(pcm).max() > 0.01 * 32768


# --- a tiny run on a generated MIDI folder -----------------------------------------------------------------


def melody_folder(folder: Path, files: int = 12) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        rows = []
        for track, base in ((0, 67), (1, 55)):
            step = 0
            while step < 48:
                length = int(rng.choice([2, 4, 4, 8]))
                rows.append((track, base + int(rng.choice([0, 2, 4, 5, 7])), step, min(step + length, 48)))
                step += length
        (folder / f"song{i:02d}.mid").write_bytes(midi_bytes(notes_array(rows), 2, [0, 32], 100.0, 4))
    return folder


TINY = ["data.batch_size=8", "data.bars=2", "model.z_dim=8", "model.g_width=8", "model.d_width=8",
        "optim.n_critic=2", "train.steps=4", "train.log_every=2", "train.sample_every=2", "train.checkpoint_every=2",
        "train.grid_size=4", "train.device=cpu", "eval.n=20", "eval.nn_train=50"]


@pytest.fixture(scope="module")
def midi_dir(tmp_path_factory) -> Path:
    return melody_folder(tmp_path_factory.mktemp("midi") / "songs")


@pytest.fixture(scope="module")
def tiny_run(single_thread, midi_dir, tmp_path_factory) -> Path:
    from ganforge import runs

    config = load_config("music-chorales", overrides=[f"data.name=midi:{midi_dir}", *TINY])
    return runs.train(config, tmp_path_factory.mktemp("runs") / "music", progress=False)


def test_tiny_run_fits_the_data_and_writes_a_preview(tiny_run):
    from ganforge.runs import load_run_config

    config = load_run_config(tiny_run)
    assert config.data.tracks == 2 and config.data.programs == [0, 32] and config.data.tempo == pytest.approx(100)
    assert config.model.monophonic is True
    assert (tiny_run / "samples" / "latest.png").is_file() and (tiny_run / "samples" / "latest.mid").is_file()


def test_resume_is_exact(tiny_run, tmp_path):
    from ganforge import runs

    config = load_config("music-chorales", overrides=[f"data.name={runs.load_run_config(tiny_run).data.name}",
                                                      *TINY])
    half = runs.train(config, tmp_path / "half", steps=2, progress=False)
    runs.resume(half, steps=4, progress=False)
    whole = torch.load(tiny_run / "checkpoints" / "last.pt", weights_only=True)["recipe"]["generator"]
    resumed = torch.load(half / "checkpoints" / "last.pt", weights_only=True)["recipe"]["generator"]
    assert all(torch.equal(whole[k], resumed[k]) for k in whole)


def test_sample_writes_every_output(tiny_run, tmp_path, monkeypatch):
    from ganforge.runs import load_run

    monkeypatch.setenv("GANFORGE_MUSIC_SYNTH", "builtin")
    loaded = load_run(tiny_run)
    family, model = loaded.family, loaded.model
    samples = family.sample(model, __import__("ganforge.families.base", fromlist=["x"]).SampleRequest(n=3, seed=5))
    assert samples.rolls.shape == (3, 2, 32, model.generator.pitches)
    assert "3 MIDI files" in family.write(samples, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "pianoroll.png", "sample-001.mid", "sample-002.mid", "sample-003.mid"]
    family.write(samples, tmp_path / "all.mid")
    again = read_piece((tmp_path / "out" / "sample-002.mid").read_bytes(), 4, "instrument", None)
    expected = roll_to_notes(samples.rolls[1], model.lowest)
    assert np.array_equal(notes_to_roll(again.notes, 2, 0, 32, model.lowest, model.generator.pitches),
                          notes_to_roll(expected, 2, 0, 32, model.lowest, model.generator.pitches))
    assert "built-in synthesizer" in family.write(samples, tmp_path / "all.wav")
    with wave.open(str(tmp_path / "all.wav"), "rb") as w:  # 3 segments of 2 bars, a bar between: 8 bars at 100 bpm
        assert w.getnframes() == math.ceil((8 * 16 * 0.15 + RELEASE_SECONDS) * SAMPLE_RATE)
    with pytest.raises(GanforgeError, match="music runs write"):
        family.write(samples, tmp_path / "x.gif")


def test_evaluate_reports_real_generated_and_both_baselines(tiny_run):
    from ganforge.families.base import EvalRequest
    from ganforge.runs import load_run

    loaded = load_run(tiny_run)
    results = loaded.family.evaluate(None, loaded.model, EvalRequest(n=20, seed=1))
    assert set(results["metrics"]) == set(metrics.METRICS)
    assert set(results["metrics"]["polyphony"]) == {"real", "ganforge", "random", "markov"}
    assert results["protocol"]["generated"] == 20
    assert results["nearest_training_overlap"]["real"]["mean"] > 0
    assert "closer to real" in loaded.family.report(results)
    with pytest.raises(GanforgeError, match="unknown music metric"):
        loaded.family.evaluate(None, loaded.model, EvalRequest(n=20, metrics="fid"))


def test_served_routes_answer_wav_midi_and_png(tiny_run, monkeypatch):
    from ganforge.families.music.serving import GenerateMusic, PianoRollRequest
    from ganforge.runs import load_run

    monkeypatch.setenv("GANFORGE_MUSIC_SYNTH", "builtin")
    loaded = load_run(tiny_run)
    routes = {r.name: r for r in loaded.family.routes()}
    assert routes["generate"].output == "audio"
    wav = routes["generate"].handler(loaded.model, GenerateMusic(n=1, seed=3, format="wav"))
    midi = routes["generate"].handler(loaded.model, GenerateMusic(n=2, seed=3, format="midi"))
    png = routes["pianoroll"].handler(loaded.model, PianoRollRequest(n=2, seed=3))
    assert wav.media_type == "audio/wav" and wav.body[:4] == b"RIFF"
    assert midi.media_type == "audio/midi" and midi.body[:4] == b"MThd"
    assert png.media_type == "image/png" and png.body[:4] == b"\x89PNG"
    with pytest.raises(ValueError):
        GenerateMusic(n=1, seed=0, format="mp3")


# --- bad input -----------------------------------------------------------------------------------------------


def music_config(name: str, *more: str):
    return load_config("music-chorales", overrides=[f"data.name={name}", *TINY, *more])


def test_bad_midi_folders_get_one_line_errors(tmp_path, capsys):
    from ganforge.families.music.data import build_music_data

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(GanforgeError, match="holds no .mid"):
        build_music_data(music_config(f"midi:{empty}"))
    with pytest.raises(GanforgeError, match="no such folder"):
        build_music_data(music_config(f"midi:{tmp_path / 'missing'}"))
    silent = tmp_path / "silent"
    silent.mkdir()
    (silent / "a.mid").write_bytes(midi_bytes(notes_array([]), 1, [0], 120.0, 4))
    (silent / "b.mid").write_bytes(b"MThd not really")
    with pytest.raises(GanforgeError, match=r"1 unreadable, 1 without notes"):
        build_music_data(music_config(f"midi:{silent}"))
    with pytest.raises(GanforgeError, match="unknown music data"):
        build_music_data(music_config("beethoven"))


def test_corrupt_files_are_skipped_and_counted(tmp_path, capsys):
    from ganforge.families.music.data import build_music_data

    folder = melody_folder(tmp_path / "songs", files=3)
    (folder / "broken.mid").write_bytes(b"\x00" * 20)
    (folder / "short.midi").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    data = build_music_data(music_config(f"midi:{folder}"))
    assert data.tracks == 2 and data.train_pieces == 3
    assert "skipped 2 of 5 MIDI files" in capsys.readouterr().err
    with pytest.raises(GanforgeError, match="no file has data.tracks=3"):
        build_music_data(music_config(f"midi:{folder}", "data.tracks=3"))
    with pytest.raises(GanforgeError, match="chorales have 4 voices"):
        build_music_data(music_config("chorales", "data.tracks=2"))
    with pytest.raises(GanforgeError, match="lower data.bars"):
        build_music_data(music_config(f"midi:{folder}", "data.bars=16"))


def test_unknown_keys_and_conditions_are_refused(tiny_run):
    from ganforge.families.base import SampleRequest
    from ganforge.runs import load_run

    with pytest.raises(GanforgeError, match="unknown key 'model.colour'"):
        load_config("music-chorales", overrides=["model.colour=1"])
    loaded = load_run(tiny_run)
    with pytest.raises(GanforgeError, match="--class does not apply"):
        loaded.family.sample(loaded.model, SampleRequest(n=1, class_index=2))


def test_chorale_cache_round_trip_and_version(tmp_path, monkeypatch):
    from ganforge.families.music import chorales

    parsed = [("a.mxl", [(0, 60, 0.0, 1.0), (3, 43, 0.5, 2.0)], 1.0, 7, "major"), ("b.mxl", [], 0.0, 9, "minor")]
    path = tmp_path / "chorales.npz"
    chorales.write_cache(parsed, path)
    first, second = chorales.read_cache(path, 4)
    assert first.notes.tolist() == [[0, 60, 0, 4], [3, 43, 2, 8]] and first.first_bar == 4
    assert (first.name, first.tonic, first.mode, first.tracks) == ("a.mxl", 7, "major", 4)
    assert len(second.notes) == 0 and second.mode == "minor"
    monkeypatch.setattr(chorales, "CACHE_VERSION", chorales.CACHE_VERSION + 1)
    with pytest.raises(ValueError, match="cache version"):
        chorales.read_cache(path, 4)


def test_one_chorale_parses(single_thread):
    pytest.importorskip("music21")
    from music21 import corpus

    from ganforge.families.music.chorales import parse_chorale

    path = next(p for p in corpus.getComposer("bach") if p.name == "bwv10.7.mxl")
    name, rows, first_bar, tonic, mode = parse_chorale(path)
    assert name == "bwv10.7.mxl" and {r[0] for r in rows} == {0, 1, 2, 3}
    assert all(36 <= r[1] <= 84 and r[3] > r[2] for r in rows)
    assert first_bar == 0.0 and (tonic, mode) == (7, "minor")
