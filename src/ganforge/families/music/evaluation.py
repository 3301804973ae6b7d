"""`ganforge eval` of a music run: the music metrics of held-out real segments, of generated samples and
of the two baselines, each one's gap to the real value, and nearest-neighbour overlap with training data."""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.errors import GanforgeError
from ganforge.families.music.baselines import markov_rolls, random_rolls
from ganforge.families.music.config import MusicConfig
from ganforge.families.music.data import MusicData, build_music_data
from ganforge.families.music.generate import MusicModel, sample_rolls
from ganforge.families.music.metrics import METRICS, all_metrics, nearest_overlap

SOURCES = ("real", "ganforge", "random", "markov")
COPY_OVERLAP = 0.9  # a segment overlapping a training segment this much counts as a copy
PROTOCOL_VERSION = 1


def reference_data(config: MusicConfig, against: str | None) -> tuple[MusicData, np.ndarray, str]:
    """The run's data, the real rolls to compare with, and their description."""
    data = build_music_data(config)
    if against is None or against == config.data.name:
        split = "held-out pieces" if data.held_out else "training pieces (too few to hold any out)"
        return data, data.held_rolls, f"{config.data.name}: {split}"
    if not against.startswith("midi:") and against != "chorales":
        raise GanforgeError(f"--against for music runs is chorales or midi:PATH, got '{against}'")
    other = build_music_data(config.with_section("data", name=against))
    real = np.concatenate([other.train_rolls, other.held_rolls]) if other.held_out else other.train_rolls
    return data, real, f"{against}: all pieces"


def chosen_metrics(names: str | None) -> list[str]:
    if not names:
        return list(METRICS)
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in METRICS]
    if unknown:
        raise GanforgeError(f"unknown music metric '{unknown[0]}'; known: {', '.join(METRICS)}")
    return wanted


def overlap_summary(rolls: np.ndarray, train: np.ndarray) -> dict[str, float]:
    best = nearest_overlap(rolls, train)
    return {"mean": float(best.mean()), "copies": float((best >= COPY_OVERLAP).mean())}


def evaluate_music(model: MusicModel, config: MusicConfig, n: int, seed: int, against: str | None,
                   metric_names: str | None) -> dict[str, Any]:
    """Metrics of real, generated and baseline rolls, gaps to real, overlap with training; with the protocol."""
    names = chosen_metrics(metric_names)
    data, real, described = reference_data(config, against)
    rolls = {
        "real": real,
        "ganforge": sample_rolls(model, n, seed),
        "random": random_rolls(data.train_rolls, n, seed),
        "markov": markov_rolls(data.train_rolls, n, seed),
    }
    spb, lowest = data.grid.steps_per_bar, data.lowest
    values = {source: all_metrics(r, lowest, spb) for source, r in rolls.items()}
    table = {m: {source: round(values[source][m], 6) for source in SOURCES} for m in names}
    gaps = {m: {s: round(abs(values[s][m] - values["real"][m]), 6) for s in SOURCES[1:]} for m in names}
    closer = [m for m in names if gaps[m]["ganforge"] < min(gaps[m]["random"], gaps[m]["markov"])]
    train = data.train_rolls
    if len(train) > config.eval.nn_train:
        keep = np.random.default_rng(seed).choice(len(train), config.eval.nn_train, replace=False)
        train = train[np.sort(keep)]
    overlap = {s: overlap_summary(rolls[s], train) for s in ("real", "ganforge", "markov")}
    return {
        "metrics": table,
        "gap_to_real": gaps,
        "closer_than_both_baselines": len(closer),
        "closer_metrics": closer,
        "nearest_training_overlap": overlap,
        "protocol": {
            "version": PROTOCOL_VERSION,
            "real": f"{described}, {len(real)} segments",
            "generated": n, "baselines": n, "seed": seed, "checkpoint_step": model.step,
            "binarize": model.binarize, "threshold": model.threshold, "monophonic": model.monophonic,
            "grid": f"{data.grid.bars} bars x {data.grid.steps_per_bar} steps, pitches {data.lowest}.."
                    f"{data.lowest + data.pitches - 1}, {data.tracks} tracks",
            "transpose": config.data.transpose,
            "baselines_fitted_on": f"{len(data.train_rolls)} training segments",
            "overlap": f"largest Jaccard overlap with {len(train)} training segments; copies: >= {COPY_OVERLAP}",
        },
    }


def report_lines(results: dict[str, Any]) -> str:
    """The results as a table for a terminal."""
    lines = [f"{'metric':<16}" + "".join(f"{s:>10}" for s in SOURCES) + "   gap: " +
             "".join(f"{s:>10}" for s in SOURCES[1:])]
    for metric, row in results["metrics"].items():
        gaps = results["gap_to_real"][metric]
        mark = " *" if metric in results["closer_metrics"] else ""
        lines.append(f"{metric:<16}" + "".join(f"{row[s]:>10.3f}" for s in SOURCES) + "        " +
                     "".join(f"{gaps[s]:>10.3f}" for s in SOURCES[1:]) + mark)
    lines.append(f"ganforge is closer to real than both baselines on {results['closer_than_both_baselines']} of "
                 f"{len(results['metrics'])} metrics (*)")
    overlap = results["nearest_training_overlap"]
    lines.append("nearest training overlap (mean / copies): " + ", ".join(
        f"{s} {v['mean']:.3f} / {v['copies']:.1%}" for s, v in overlap.items()))
    p = results["protocol"]
    lines.append(f"protocol: real = {p['real']}; {p['generated']} generated (seed {p['seed']}, step "
                 f"{p['checkpoint_step']}, {p['binarize']} {p['threshold']}); {p['grid']}")
    return "\n".join(lines)
