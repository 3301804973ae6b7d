"""train.amp=auto: bf16 only where the hardware computes it natively and faster, chosen once per run."""

from __future__ import annotations

import torch
import yaml

from ganforge import devices, train
from ganforge.devices import conv_step_seconds, cpu_has_bf16_units, resolve_amp
from ganforge.families import load_config

ZEN4_FLAGS = "flags\t\t: fpu vme sse avx2 avx512f avx512_bf16 avx512_vnni\n"
SKYLAKE_FLAGS = "flags\t\t: fpu vme sse avx2 avx512f avx512bw avx512_vnni\n"


def test_bf16_units_are_read_from_the_cpu_flags(tmp_path):
    for text, expected in ((ZEN4_FLAGS, True), (SKYLAKE_FLAGS, False),
                           ("flags\t\t: fpu amx_bf16 amx_tile\n", True), ("processor\t: 0\n", False)):
        info = tmp_path / "cpuinfo"
        info.write_text("processor\t: 0\n" + text)
        assert cpu_has_bf16_units(info) is expected, text
    assert cpu_has_bf16_units(tmp_path / "absent") is False
    (tmp_path / "partial").write_text("flags\t\t: avx512_bf16x\n")  # a flag's name inside another does not count
    assert cpu_has_bf16_units(tmp_path / "partial") is False


def test_the_trial_times_both_precisions_without_touching_the_random_stream():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    assert conv_step_seconds(None, rounds=1) > 0 and conv_step_seconds(torch.bfloat16, rounds=1) > 0
    assert torch.equal(torch.rand(3), expected)


def test_auto_follows_the_trial_and_explicit_values_stay(monkeypatch):
    cpu = torch.device("cpu")
    for value in ("none", "bf16", "fp16"):
        assert resolve_amp(value, cpu) == value
    monkeypatch.setattr(devices, "cpu_has_bf16_units", lambda: False)
    assert resolve_amp("auto", cpu) == "none"  # no bf16 units: no trial
    monkeypatch.setattr(devices, "cpu_has_bf16_units", lambda: True)
    monkeypatch.setattr(devices, "conv_step_seconds", lambda dtype: 0.5 if dtype is None else 0.45)
    assert resolve_amp("auto", cpu) == "none"  # 1.11x: under the 1.15x asked for
    monkeypatch.setattr(devices, "conv_step_seconds", lambda dtype: 0.5 if dtype is None else 0.4)
    assert resolve_amp("auto", cpu) == "bf16"  # 1.25x


def test_a_run_records_what_auto_chose(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(devices, "bf16_is_faster_on_cpu", lambda: True)
    config = load_config("default", overrides=["data.name=digits8", "data.clusters=0", "model.g_cond=none",
                                               "model.d_cond=none", "data.batch_size=16", "train.steps=2",
                                               "train.log_every=1", "train.device=cpu", "train.amp=auto"])
    run = train(config, tmp_path / "run", progress=False)
    assert "train.amp=auto trains in bf16 autocast" in capsys.readouterr().err
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["amp"] == "bf16"
