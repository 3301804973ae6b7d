"""optim.lr_decay: both learning rates held, then linearly to 0; exact through an interrupted run's resume."""

from __future__ import annotations

import pytest
import torch
from train_helpers import SigintAt, assert_same_state, checkpoint_of

from ganforge import GanforgeError, resume, train
from ganforge.optimizers import LinearDecay
from ganforge.training.trainer import TrainingInterrupted


def learning_rates(schedule: LinearDecay, optimizers: list[torch.optim.Optimizer], steps: int) -> list[float]:
    rates = []
    for _ in range(steps):
        rates.append(optimizers[0].param_groups[0]["lr"])
        for o in optimizers:
            o.step()
        schedule.step()
    return rates


def test_linear_decay_holds_then_falls_to_zero_for_every_optimizer():
    weights = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    optimizers = [torch.optim.Adam([w], lr=1.0) for w in weights]
    schedule = LinearDecay(optimizers, total_steps=8, share=0.5)
    rates = learning_rates(schedule, optimizers, 8)
    assert rates == pytest.approx([1, 1, 1, 1, 1, 0.75, 0.5, 0.25])
    assert optimizers[1].param_groups[0]["lr"] == optimizers[0].param_groups[0]["lr"] == 0.0

    restored = [torch.optim.Adam([w], lr=1.0) for w in weights]
    again = LinearDecay(restored, total_steps=8, share=0.5)
    again.load_state_dict(schedule.state_dict())
    assert again.schedulers[0].last_epoch == 8


def test_a_run_with_lr_decay_resumes_exactly_after_an_interruption(tiny_config, tmp_path):
    config = tiny_config("optim.lr_decay=0.5")
    full = train(config, out=tmp_path / "full", progress=False)
    with pytest.raises(TrainingInterrupted):
        train(config, out=tmp_path / "cut", progress=False, callbacks=[SigintAt(step=4)])
    resume(tmp_path / "cut", progress=False)
    a, b = checkpoint_of(full), checkpoint_of(tmp_path / "cut")
    assert_same_state(a, b)
    assert a["recipe"]["lr_decay"]["schedulers"][0]["last_epoch"] == config.train.steps
    plain = checkpoint_of(train(tiny_config(), out=tmp_path / "plain", progress=False))
    assert not torch.equal(plain["recipe"]["generator"]["project.weight"], a["recipe"]["generator"]["project.weight"])


def test_lr_decay_needs_a_step_count(tiny_config, tmp_path):
    config = tiny_config("optim.lr_decay=0.5", "train.minutes=0.1")
    with pytest.raises(GanforgeError, match="lr_decay needs the run's length in steps"):
        train(config, out=tmp_path / "run", progress=False)
