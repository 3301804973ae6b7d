"""The ``ganforge`` command: errors (one line, no traceback, exit 2), train, resume, sample, list, help.

Error handling lives in ``ganforge.cli.main`` (CliRunner on ``app`` would skip it), so errors run either as
real processes (``python -m ganforge``) or through ``main()`` itself with ``sys.argv`` set. The processes
start all at once (each spends ~2 s importing torch) and are checked one per test. Successful commands other
than one real ``train`` run through typer's CliRunner, in process.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from cli_helpers import Result, assert_one_line_error, run_main
from PIL import Image
from typer.testing import CliRunner

import ganforge.runs as runs
from ganforge.cli import app
from ganforge.training.trainer import TrainingInterrupted

pytestmark = pytest.mark.usefixtures("single_thread")

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # tiny models; do not fight other processes for 2 cores

TINY_SET = [
    "--set", "model.z_dim=16", "--set", "model.g_width=8", "--set", "model.d_width=8",
    "--set", "data.batch_size=16", "--set", "train.grid_size=4", "--set", "train.device=cpu",
]

PROCESSES = {
    "train": ["train", "--data", "digits8", "--steps", "2", "--seed", "3", "--quiet", "--out", "run", *TINY_SET],
    "unknown_preset": ["train", "article-mlp-mnst"],
    "bad_value": ["train", "--set", "optim.g_lr=fast"],
    "resume_missing": ["resume", "no-such-run"],
}


@pytest.fixture(scope="module")
def cli(tmp_path_factory) -> tuple[Path, dict[str, Result]]:
    """Runs every command in PROCESSES concurrently in one scratch folder; returns (folder, results)."""
    cwd = tmp_path_factory.mktemp("cli")
    procs = {
        name: subprocess.Popen([sys.executable, "-m", "ganforge", *args], cwd=cwd, env=ENV, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name, args in PROCESSES.items()
    }
    results = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        results[name] = Result(proc.returncode, out, err)
    return cwd, results


@pytest.fixture(scope="module")
def trained_run(cli) -> Path:
    cwd, results = cli
    result = results["train"]
    assert result.returncode == 0, result.stderr
    return cwd / "run"


# --- errors ----------------------------------------------------------------------------------------


def test_unknown_preset_lists_the_presets(cli):
    line = assert_one_line_error(cli[1]["unknown_preset"], "unknown preset 'article-mlp-mnst'",
                                 "Did you mean 'article-mlp-mnist'?", "default", "wgan-gp")
    assert "Known:" in line


def test_bad_value_names_the_key(cli):
    assert_one_line_error(cli[1]["bad_value"], "optim.g_lr", "'fast'")


def test_resume_of_a_missing_run(cli):
    assert_one_line_error(cli[1]["resume_missing"], "run folder not found", "no-such-run")


def test_unknown_data_set_lists_the_data_sets(monkeypatch, capsys, tmp_path):
    result = run_main(monkeypatch, capsys, ["train", "--data", "digitz", "--out", str(tmp_path / "run"), *TINY_SET])
    assert_one_line_error(result, "unknown data set 'digitz'", "digits8", "folder:PATH", "Did you mean 'digits'?")


def test_unknown_key_gets_a_suggestion(monkeypatch, capsys):
    result = run_main(monkeypatch, capsys, ["train", "--set", "optim.g_lrr=1e-4"])
    assert_one_line_error(result, "unknown key 'optim.g_lrr'", "did you mean 'optim.g_lr'?")


def test_sample_of_a_missing_run(monkeypatch, capsys, tmp_path):
    out = tmp_path / "x.png"
    result = run_main(monkeypatch, capsys, ["sample", str(tmp_path / "no-such-run"), "--out", str(out)])
    assert_one_line_error(result, "run folder not found", "no-such-run")
    assert not out.exists()


# --- train, resume, sample -------------------------------------------------------------------------


def test_train_writes_a_run_with_the_options_given(cli, trained_run):
    result = cli[1]["train"]
    assert f"run folder: {Path('run')}" in result.stdout
    assert "Traceback" not in result.stderr and "step/s" not in result.stderr  # --quiet: no progress bar
    config = yaml.safe_load((trained_run / "config.yaml").read_text())
    assert config["data"]["name"] == "digits8"
    assert config["train"]["steps"] == 2 and config["train"]["seed"] == 3
    assert config["model"]["g_width"] == 8 and config["data"]["batch_size"] == 16
    state = torch.load(trained_run / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 2 and state["image_shape"] == [1, 8, 8]
    assert (trained_run / "samples" / "latest.png").is_file() and (trained_run / "metrics.jsonl").is_file()


def test_resume_continues_to_more_steps(trained_run, tmp_path):
    run = Path(shutil.copytree(trained_run, tmp_path / "run"))
    result = CliRunner().invoke(app, ["resume", str(run), "--steps", "3", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "run folder:" in result.output
    assert torch.load(run / "checkpoints" / "last.pt", weights_only=True)["step"] == 3


def test_sample_to_a_png_is_one_grid(trained_run, tmp_path):
    out = tmp_path / "grid.png"
    result = CliRunner().invoke(app, ["sample", str(trained_run), "--n", "9", "--out", str(out), "--seed", "1"])
    assert result.exit_code == 0, result.output
    assert "grid of 9 images" in result.output
    with Image.open(out) as grid:
        assert grid.size == (32, 32)  # 3 x 3 images of 8x8 with 2 px padding


def test_sample_to_a_folder_writes_one_png_per_image(trained_run, tmp_path):
    out = tmp_path / "images"
    result = CliRunner().invoke(app, ["sample", str(trained_run), "--n", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert [f.name for f in files] == [f"sample-{i:05d}.png" for i in range(5)]
    for f in files:
        with Image.open(f) as image:
            assert image.size == (8, 8) and image.mode == "L"


def test_sample_same_seed_same_bytes(trained_run, tmp_path):
    def grid(name: str, *extra: str) -> bytes:
        out = tmp_path / name
        result = CliRunner().invoke(app, ["sample", str(trained_run), "--n", "16", "--out", str(out), *extra])
        assert result.exit_code == 0, result.output
        return out.read_bytes()

    first = grid("a.png", "--seed", "7")
    assert grid("b.png", "--seed", "7") == first
    assert grid("c.png", "--seed", "8") != first
    assert grid("d.png", "--seed", "7", "--no-ema") != first


# --- help and list ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("command", "option"), [
    ("train", "--set"), ("resume", "--steps"), ("sample", "--no-ema"), ("list", "--help"), ("eval", "--extractor"),
])
def test_help_of_every_command(command, option):
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and command in result.output and option in result.output


def test_top_level_help_lists_the_commands():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("train", "resume", "sample", "list"):
        assert command in result.output


def test_list_shows_data_models_losses_and_presets():
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    for name in ("digits8", "folder:PATH", "dcgan", "resnet", "wgan-gp", "hinge", "article-mlp-mnist", "default"):
        assert name in result.output
    # tools find a conditional preset by the first word of the list naming one (acceptance/conditional.sh):
    # descriptions above it must not contain such a word ("unconditional" once did)
    first = re.search(r"[a-z0-9-]*(cond|proj|acgan)[a-z0-9-]*", result.output)
    assert first is not None and first.group(0) == "cond-dcgan"


# --- Ctrl-C through main() ----------------------------------------------------------------------------


def interrupt_training(monkeypatch, error: BaseException) -> None:
    def interrupted(*args, **kwargs):
        raise error

    monkeypatch.setattr(runs, "train", interrupted)


def test_an_interrupted_run_exits_130_with_how_to_continue(monkeypatch, capsys):
    message = "interrupted at step 4; checkpoint saved to run/checkpoints/last.pt. Continue with: ganforge resume run"
    interrupt_training(monkeypatch, TrainingInterrupted(message))
    result = run_main(monkeypatch, capsys, ["train", "--quiet"])
    assert result.returncode == 130
    assert result.stderr.strip() == f"error: {message}"


def test_a_hard_ctrl_c_says_interrupted(monkeypatch, capsys):
    interrupt_training(monkeypatch, KeyboardInterrupt())
    result = run_main(monkeypatch, capsys, ["train", "--quiet"])
    assert result.returncode == 130
    assert "interrupted" in result.stderr
