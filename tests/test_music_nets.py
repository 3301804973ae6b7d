"""The music generator's note-onset ("start or hold") output: the closed form matches the step-by-step
recurrence, holding sustains a note, and the generator's output stays a distribution."""

from __future__ import annotations

import pytest
import torch

from ganforge.families.music.nets import MuseGenerator, held_notes, straight_through


def recurrence(logits: torch.Tensor, monophonic: bool, pitches: int) -> torch.Tensor:
    """q_t = fresh_t + hold_t * q_(t-1), one step at a time (step 0: the fresh choice renormalized)."""
    b, tracks, steps, _ = logits.shape
    if monophonic:
        probs, first = torch.softmax(logits, -1), torch.softmax(logits[:, :, 0, :-1], -1)
        fresh, hold = probs[..., :-1], probs[..., -1:]
    else:
        per_pitch = logits.view(b, tracks, steps, 3, pitches)
        probs, first = torch.softmax(per_pitch, dim=3), torch.softmax(per_pitch[:, :, 0, :2], dim=2)[:, :, 0]
        fresh, hold = probs[:, :, :, 0], probs[:, :, :, 2]
    out = [first]
    for t in range(1, steps):
        out.append(fresh[:, :, t] + hold[:, :, t] * out[-1])
    q = torch.stack(out, dim=2)
    return q[..., :pitches] if monophonic else q


@pytest.mark.parametrize("monophonic", [True, False])
def test_held_notes_matches_the_recurrence(single_thread, monophonic):
    torch.manual_seed(0)
    pitches = 5
    logits = 3 * torch.randn(2, 3, 12, pitches + 2 if monophonic else 3 * pitches, dtype=torch.float64)
    q = held_notes(logits, monophonic, pitches)
    assert torch.allclose(q, recurrence(logits, monophonic, pitches), atol=1e-10)
    assert (q >= 0).all() and (q.sum(-1) <= 1 + 1e-9 if monophonic else q <= 1 + 1e-9).all()


def test_holding_sustains_the_first_note(single_thread):
    pitches, steps = 4, 8
    logits = torch.full((1, 1, steps, pitches + 2), -20.0)
    logits[0, 0, 0, 2] = 20.0  # step 0: pitch 2
    logits[0, 0, 1:, -1] = 20.0  # then hold
    logits[0, 0, 5, -1], logits[0, 0, 5, 0] = -20.0, 20.0  # step 5: a fresh pitch 0, then hold again
    played = straight_through(held_notes(logits, True, pitches), True).argmax(-1)[0, 0]
    assert played.tolist() == [2, 2, 2, 2, 2, 0, 0, 0]


def test_generator_with_hold_gives_distributions_and_gradients(single_thread):
    torch.manual_seed(0)
    generator = MuseGenerator(tracks=2, bars=2, steps_per_bar=8, pitches=6, z_dim=4, width=8, monophonic=True,
                              hold=True)
    probs = generator(torch.randn(3, generator.noise_dim))
    assert probs.shape == (3, 2, 16, 6)
    assert (probs.sum(-1) <= 1 + 1e-5).all() and (probs >= 0).all()
    probs.pow(2).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in generator.parameters())

