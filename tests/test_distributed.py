"""Distributed training: 2 CPU processes (torchrun, gloo, DDP) against one process with the same global batch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from ganforge import load_config, train
from ganforge.data.stream import PositionedBatchSampler
from ganforge.training.checkpoint import load_checkpoint

pytestmark = pytest.mark.usefixtures("single_thread")

# A small MLP GAN without BatchNorm or dropout: per-process BatchNorm statistics would differ from
# one-process ones by design (train.sync_batchnorm is the CUDA option for that).
OVERRIDES = ["model.arch=mlp", "model.z_dim=8", "model.g_hidden=[32]", "model.d_hidden=[32]", "data.name=digits8",
             "train.steps=6", "train.log_every=2", "train.sample_every=3", "train.checkpoint_every=3",
             "train.grid_size=4", "train.device=cpu", "train.ema_decay=0.9"]


def torchrun(args: list[str], nproc: int = 2, env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "ganforge", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def sets(overrides: list[str]) -> list[str]:
    return [arg for item in overrides for arg in ("--set", item)]


def weights(run) -> dict[str, torch.Tensor]:
    recipe = load_checkpoint(run / "checkpoints" / "last.pt")["recipe"]
    return {f"{net}.{k}": v for net in ("generator", "discriminator") for k, v in recipe[net].items()} | {
        f"ema.{k}": v for k, v in recipe["ema"]["model"].items()
    }


def test_the_sampler_gives_each_rank_its_slice_of_the_global_batch():
    whole = iter(PositionedBatchSampler(100, 16, seed=3))
    ranks = [iter(PositionedBatchSampler(100, 8, seed=3, rank=r, world_size=2)) for r in range(2)]
    for _ in range(10):  # across epoch boundaries too
        assert next(whole) == next(ranks[0]) + next(ranks[1])


def test_two_gloo_processes_match_one_process_with_the_global_batch(tmp_path):
    one = train(load_config("dcgan", overrides=[*OVERRIDES, "data.batch_size=16"]), out=tmp_path / "one",
                progress=False)
    result = torchrun(["train", "dcgan", "--out", str(tmp_path / "two"), "-q",
                       *sets([*OVERRIDES, "data.batch_size=8"])])
    assert result.returncode == 0, result.stderr[-2000:]
    a, b = weights(one), weights(tmp_path / "two")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5, rtol=1e-4), key
    # only rank 0 wrote the run folder, and the logged throughput counts both processes' images
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in one.iterdir())


def test_a_distributed_run_resumes_from_its_checkpoint(tmp_path):
    run = tmp_path / "run"
    overrides = [o for o in OVERRIDES if not o.startswith("train.steps")]
    # the convenience form: ganforge train --nproc 2 launches torchrun itself
    first = subprocess.run([sys.executable, "-m", "ganforge", "train", "dcgan", "--nproc", "2", "--out", str(run), "-q",
                            "--steps", "3", *sets([*overrides, "data.batch_size=8"])],
                           capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 3
    second = torchrun(["resume", str(run), "--steps", "6", "-q"])
    assert second.returncode == 0, second.stderr[-2000:]
    whole = train(load_config("dcgan", overrides=[*OVERRIDES, "data.batch_size=16"]), out=tmp_path / "one",
                  progress=False)
    a, b = weights(whole), weights(run)
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-5, rtol=1e-4), key


def test_evaluation_during_distributed_training_gathers_every_process_share(tmp_path, monkeypatch):
    """Each process generates and embeds its share of the evaluation images; the gathered features give the
    numbers one process gets for all of them (no BatchNorm here, so the processes' generators are equal)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANFORGE_CACHE", str(cache))
    evaluation = ["eval.every=3", "eval.n=40", "eval.metrics=[fid,pr]", "eval.extractor=digits"]
    one = train(load_config("dcgan", overrides=[*OVERRIDES, *evaluation, "data.batch_size=16"]),
                out=tmp_path / "one", progress=False)
    result = torchrun(["train", "dcgan", "--out", str(tmp_path / "two"), "-q",
                       *sets([*OVERRIDES, *evaluation, "data.batch_size=8"])], env_extra={"GANFORGE_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr[-2000:]

    def evals(run):
        records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        return [r for r in records if "eval_fid" in r]

    a, b = evals(one), evals(tmp_path / "two")
    assert [r["step"] for r in a] == [r["step"] for r in b] == [3, 6]
    for ra, rb in zip(a, b, strict=True):
        assert rb["eval_fid"] == pytest.approx(ra["eval_fid"], rel=1e-4)
        assert rb["eval_precision"] == pytest.approx(ra["eval_precision"], abs=1e-6)
    assert (tmp_path / "two" / "checkpoints" / "best.pt").is_file()
