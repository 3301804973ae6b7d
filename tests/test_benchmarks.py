"""The benchmark scripts run end to end in their quick modes (their full numbers live in docs/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_script(*args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_speed_benchmark_quick_mode_prints_the_table():
    out = run_script("benchmarks/speed.py", "--quick")
    row = next(line for line in out.splitlines() if line.startswith("| dcgan-28"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert float(cells[1]) > 0 and float(cells[2]) > 0 and cells[3].endswith("x")


def test_augmentation_benchmark_quick_mode_prints_the_table(tmp_path):
    out = run_script("benchmarks/augmentation.py", "--quick", "--json", str(tmp_path / "r.json"))
    assert "| 10 |" in out and (tmp_path / "r.json").is_file()


def test_toy2d_benchmark_quick_mode_prints_the_table():
    out = run_script("benchmarks/toy2d.py", "--quick")
    rows = [line for line in out.splitlines() if line.startswith("| | ")]
    assert len(rows) == 4 and " / 25 " in rows[0]  # pack 1 and 2: one seed and its mean each


def test_busy_machine_case_measures_each_loop_alone_and_beside_a_busy_process():
    import multiprocessing

    sys.path.insert(0, str(ROOT / "benchmarks"))  # also for the spawned busy process, which imports the module
    from busy_machine import busy_table

    children: list[int] = []  # processes running beside each measurement

    def measure() -> float:
        children.append(len(multiprocessing.active_children()))
        return 100.0 if len(children) == 1 else 50.0

    try:
        rows = busy_table({"loop": measure}, rounds=1)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert rows[-1] == "| loop | 100 | 50 | 2.00x |"
    assert children == [0, 1]  # alone, then beside the busy process
