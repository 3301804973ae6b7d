"""Adaptive thread count: the cores other processes leave free decide torch's intra-op threads."""

from __future__ import annotations

import pytest
import torch

from ganforge.training import threads as threads_module
from ganforge.training.threads import AdaptiveThreads, Sampler, threads_for


@pytest.mark.parametrize(("others", "cores", "ceiling", "expected"), [
    (0.0, 2, 2, 2), (1.0, 2, 2, 1), (0.4, 2, 2, 2), (0.6, 2, 2, 1), (2.5, 2, 2, 1), (1.0, 8, 4, 4), (5.2, 8, 8, 3),
])
def test_threads_for_the_free_cores(others, cores, ceiling, expected):
    assert threads_for(others, cores, ceiling) == expected


def test_the_sampler_subtracts_this_process_own_cpu_time(monkeypatch):
    readings = iter([(10.0, 1.0, 100.0), (14.0, 2.0, 102.0)])  # machine busy s, own CPU s, wall s
    monkeypatch.setattr(Sampler, "read", staticmethod(lambda: next(readings)))
    assert Sampler().others_busy_cores() == pytest.approx((4.0 - 1.0) / 2.0)


class FakeTrainer:
    step = 0


def test_adaptive_threads_follow_the_load_and_restore_the_count_at_the_end(monkeypatch):
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    loads = iter([1.0, 0.0])
    monkeypatch.setattr(Sampler, "others_busy_cores", lambda self: next(loads))
    monkeypatch.setattr(threads_module, "FIRST_SAMPLE_SECONDS", 0.0)
    try:
        callback = AdaptiveThreads(every_seconds=0.0, cores=2)
        trainer = FakeTrainer()
        callback.on_train_start(trainer)
        assert torch.get_num_threads() == 1  # one core taken by another process
        trainer.step = 25
        callback.on_log(trainer, {"step": 25})
        assert torch.get_num_threads() == 2  # it left
        assert callback.changes == [(0, 1), (25, 2)]
        callback.on_train_end(trainer)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_cpu_seconds_reads_proc_stat_where_there_is_one():
    from ganforge.training.threads import PROC_STAT, cpu_seconds

    reading = cpu_seconds()
    if not PROC_STAT.exists():
        assert reading is None
    else:
        busy, total = reading
        assert 0 < busy < total
