"""Training for a wall-clock budget (--minutes): the plan, what the run records, and exact repetition by steps."""

from __future__ import annotations

import pytest
from train_helpers import assert_same_state, checkpoint_of

from ganforge import load_config, resume, train
from ganforge.config import load_yaml_file
from ganforge.families import validate
from ganforge.training import budget as budget_module
from ganforge.training.budget import RESERVE_SHARE, UNPLANNED_STEPS, TimeBudget

pytestmark = pytest.mark.usefixtures("single_thread")


class FakeTrainer:
    def __init__(self) -> None:
        self.step = 0
        self.total_steps = 100


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_plan_follows_the_measured_speed(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(budget_module.time, "perf_counter", clock)
    plans: list[int] = []
    budget = TimeBudget(minutes=1.0, on_plan=plans.append)
    trainer = FakeTrainer()
    budget.on_train_start(trainer)
    assert trainer.total_steps == UNPLANNED_STEPS
    clock.now += 6.0  # start-up and 10 slow first steps
    trainer.step = 10
    budget.on_log(trainer, {"step": 10})
    assert trainer.total_steps == int(10 * 60 * (1 - RESERVE_SHARE) / 6.0)  # first guess: start-up included
    clock.now += 2.0  # then 20 steps at 0.1 s each
    trainer.step = 30
    budget.on_log(trainer, {"step": 30})
    left = 60 * (1 - RESERVE_SHARE) - 8.0
    assert trainer.total_steps == 30 + int(left / 0.1)
    budget.on_log(trainer, {"step": 30, "eval_fid": 3.0})  # evaluation records do not re-plan
    clock.now += 60.0  # the machine stalled: time is up, stop at this step
    trainer.step = 40
    budget.on_log(trainer, {"step": 40})
    assert trainer.total_steps == 40
    assert plans == [int(10 * 60 * (1 - RESERVE_SHARE) / 6.0), 30 + int(left / 0.1), 40]


TINY = ["data.name=digits8", "data.batch_size=16", "model.z_dim=16", "model.g_width=8", "model.d_width=8",
        "train.log_every=2", "train.sample_every=50", "train.checkpoint_every=50", "train.grid_size=4",
        "train.device=cpu"]


def test_a_budget_run_records_its_steps_and_repeats_exactly_by_steps(tmp_path):
    cfg = load_config("dcgan", overrides=[*TINY, "train.minutes=0.02"])
    timed = train(cfg, out=tmp_path / "timed", progress=False)
    recorded = validate(load_yaml_file(timed / "config.yaml"))
    state = checkpoint_of(timed)
    assert recorded.train.minutes == 0.02
    assert recorded.train.steps == state["step"] == state["config"]["train"]["steps"] > 1
    again = train(recorded, out=tmp_path / "again", steps=recorded.train.steps, progress=False)
    assert validate(load_yaml_file(again / "config.yaml")).train.minutes is None  # --steps turned the budget off
    a, b = checkpoint_of(timed), checkpoint_of(again)
    a["config"]["train"]["minutes"] = None
    assert_same_state(a, b)
    resume(timed, steps=recorded.train.steps + 2, progress=False)
    assert checkpoint_of(timed)["step"] == recorded.train.steps + 2


def test_cli_steps_win_over_a_budget_in_the_config_file(monkeypatch, capsys, tmp_path):
    from cli_helpers import run_main

    config_file = tmp_path / "c.yaml"
    config_file.write_text("train:\n  minutes: 30\n")
    sets = [arg for pair in TINY for arg in ("--set", pair)]
    result = run_main(monkeypatch, capsys, ["train", "--config", str(config_file), "--steps", "3", *sets,
                                            "--out", str(tmp_path / "r"), "-q"])
    assert result.returncode == 0, result.stderr
    recorded = validate(load_yaml_file(tmp_path / "r" / "config.yaml"))
    assert (recorded.train.steps, recorded.train.minutes) == (3, None)


@pytest.mark.parametrize(("overrides", "every"), [
    ([], 0), (["train.minutes=5"], 0), (["train.minutes=10"], 1000), (["train.minutes=60", "eval.every=200"], 200),
])
def test_a_long_budget_evaluates_during_training_to_keep_the_best_checkpoint(overrides, every):
    from ganforge.families.images.family import evaluation_every

    assert evaluation_every(load_config("dcgan", overrides=overrides)) == every
