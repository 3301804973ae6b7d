"""Keeping freed CPU memory for reuse: training steps stop page-faulting their buffers in again."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

import ganforge.runs
from ganforge import train

STEPS_SCRIPT = """
import resource, sys, torch
from ganforge.training.cpu_memory import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
torch.set_num_threads(2)  # the faults come from the worker thread's malloc arena too
torch.manual_seed(0)
net = torch.nn.Sequential(torch.nn.ConvTranspose2d(64, 32, 4, 2, 1), torch.nn.BatchNorm2d(32), torch.nn.ReLU(),
                          torch.nn.ConvTranspose2d(32, 1, 4, 2, 1))
optimizer = torch.optim.Adam(net.parameters())
def step():
    net(torch.randn(32, 64, 7, 7)).square().mean().backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
for _ in range(5):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults_of_ten_steps(mode: str) -> int:
    result = subprocess.run([sys.executable, "-c", STEPS_SCRIPT, mode], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.split()[-1])


@pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="a glibc malloc setting")
def test_kept_memory_stops_the_page_faults_of_every_step():
    default, kept = page_faults_of_ten_steps("default"), page_faults_of_ten_steps("keep")
    assert default > 2000, default  # glibc's defaults hand the step's buffers back and fault them in again
    assert kept < default / 5, (kept, default)


@pytest.mark.parametrize(("extra", "applied"), [([], True), (["train.reuse_cpu_memory=false"], False)])
def test_training_on_the_cpu_keeps_freed_memory_unless_turned_off(extra, applied, tiny_config, tmp_path,
                                                                   monkeypatch):
    calls = []
    monkeypatch.setattr(ganforge.runs, "keep_freed_memory", lambda: calls.append(1) or True)
    train(tiny_config("train.steps=1", "train.device=cpu", *extra), out=tmp_path / "run", progress=False)
    assert bool(calls) == applied
