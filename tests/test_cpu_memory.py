"""Keeping freed CPU memory for reuse: training steps stop page-faulting their buffers in again."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

import ganforge.devices
from ganforge import train

STEPS_SCRIPT = """
import resource, sys, torch
from ganforge.training.cpu_memory import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
torch.set_num_threads(1)
def step():  # a step's buffers: allocated, written, freed together
    buffers = [torch.empty(2 * 2**20).fill_(1.0) for _ in range(4)]
    del buffers
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
# glibc's starting mmap threshold, pinned: left dynamic, whether glibc has raised it yet depends on what
# other threads allocated first, so the default process would fault in some runs and not in others.
GLIBC_START_SETTINGS = {"MALLOC_MMAP_THRESHOLD_": str(128 * 2**10)}


def page_faults_of_ten_steps(mode: str) -> int:
    result = subprocess.run([sys.executable, "-c", STEPS_SCRIPT, mode], capture_output=True, text=True, timeout=300,
                            env={**os.environ, **GLIBC_START_SETTINGS})
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.split()[-1])


@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="a glibc malloc setting")
def test_kept_memory_stops_the_page_faults_of_every_step():
    """With glibc's starting settings each step's 8 MiB buffers are mmap'ed, handed back on free and faulted
    in again by the next step; kept, the pages stay and the steps reuse them."""
    default, kept = page_faults_of_ten_steps("default"), page_faults_of_ten_steps("keep")
    assert default >= 10 * 4, default  # at least a page per buffer and step (81,600 with 4 KiB pages)
    assert kept < default / 20, (kept, default)


@pytest.mark.parametrize(("extra", "applied"), [([], True), (["train.reuse_cpu_memory=false"], False)])
def test_training_on_the_cpu_keeps_freed_memory_unless_turned_off(extra, applied, tiny_config, tmp_path,
                                                                   monkeypatch):
    calls = []
    monkeypatch.setattr(ganforge.devices, "keep_freed_memory", lambda: calls.append(1) or True)
    train(tiny_config("train.steps=1", "train.device=cpu", *extra), out=tmp_path / "run", progress=False)
    assert bool(calls) == applied
