"""The two baselines `ganforge eval` compares a music run with, both fitted on the training rolls.

- ``random_rolls``: every cell on independently, with the training rolls' note density of its track and
  pitch (so the overall density is real, the structure is not).
- ``markov_rolls``: per track, a first-order Markov chain over the states "rest" and "pitch p" (the
  highest pitch the track sounds at a step), fitted on the training rolls step by step and sampled from
  its first-step distribution.
"""

from __future__ import annotations

import numpy as np


def random_rolls(train: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` rolls whose cells are Bernoulli draws with the per-(track, pitch) density of ``train``."""
    rng = np.random.default_rng(seed)
    density = train.mean(axis=(0, 2))  # [tracks, pitches]
    _, tracks, steps, pitches = train.shape
    return rng.random((n, tracks, steps, pitches)) < density[None, :, None, :]


def track_states(rolls: np.ndarray) -> np.ndarray:
    """``[n, steps, pitches]`` of one track -> states ``[n, steps]``: 0 for rest, 1 + the highest pitch row."""
    pitches = rolls.shape[-1]
    top = pitches - 1 - np.argmax(rolls[..., ::-1], axis=-1)
    return np.where(rolls.any(axis=-1), top + 1, 0)


def fit_chain(states: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """First-step probabilities ``[size]`` and transition probabilities ``[size, size]`` of state sequences;
    states never left fall back to the first-step distribution."""
    first = np.bincount(states[:, 0], minlength=size).astype(np.float64)
    first /= first.sum()
    counts = np.zeros((size, size))
    np.add.at(counts, (states[:, :-1].ravel(), states[:, 1:].ravel()), 1.0)
    totals = counts.sum(axis=1, keepdims=True)
    transitions = np.where(totals > 0, counts / np.maximum(totals, 1.0), first[None, :])
    return first, transitions


def sample_chain(first: np.ndarray, transitions: np.ndarray, n: int, steps: int,
                 rng: np.random.Generator) -> np.ndarray:
    """``n`` state sequences of ``steps`` states."""
    states = np.zeros((n, steps), dtype=np.int64)
    states[:, 0] = np.minimum(np.searchsorted(np.cumsum(first), rng.random(n), side="right"), len(first) - 1)
    cdf = np.cumsum(transitions, axis=1)
    for step in range(1, steps):
        rows = cdf[states[:, step - 1]]
        states[:, step] = np.minimum((rows <= rng.random(n)[:, None]).sum(axis=1), len(first) - 1)
    return states


def markov_rolls(train: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` rolls, each track sampled from its own Markov chain fitted on ``train``."""
    rng = np.random.default_rng(seed)
    _, tracks, steps, pitches = train.shape
    out = np.zeros((n, tracks, steps, pitches), dtype=bool)
    for track in range(tracks):
        first, transitions = fit_chain(track_states(train[:, track]), pitches + 1)
        states = sample_chain(first, transitions, n, steps, rng)
        rows, cols = np.nonzero(states)
        out[rows, track, cols, states[rows, cols] - 1] = True
    return out
