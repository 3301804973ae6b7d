"""Choosing the device, and what training does to CPU memory before it starts."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from ganforge.errors import GanforgeError
from ganforge.training.cpu_memory import keep_freed_memory


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else the CPU."""
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise GanforgeError(f"unknown device '{name}': use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise GanforgeError(f"device '{name}' asked for, but this machine has no CUDA GPU: use --device cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise GanforgeError(f"device '{name}' asked for, but this machine has no Apple GPU (MPS): use --device cpu")
    if device.type not in ("cpu", "cuda", "mps"):
        raise GanforgeError(f"device '{name}' cannot train or sample: use auto, cpu, cuda or cuda:N")
    return device


def prepare_memory(reuse_cpu_memory: bool, device: torch.device) -> None:
    """On the CPU, keep freed memory for reuse unless ``train.reuse_cpu_memory`` is off."""
    if device.type == "cpu" and reuse_cpu_memory:
        keep_freed_memory()


CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # /proc/cpuinfo flags of CPUs that compute in bf16 natively
BF16_MIN_SPEEDUP = 1.15  # auto takes bf16 only when the trial below is at least this much faster


def cpu_has_bf16_units(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU flags name native bf16 arithmetic (AVX512-BF16 or AMX). Unknown (no /proc/cpuinfo):
    False."""
    try:
        flags = next((line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), "")
    except OSError:
        return False
    return any(flag in flags.split() for flag in CPU_BF16_FLAGS)


def conv_step_seconds(dtype: torch.dtype | None, rounds: int = 4) -> float:
    """Best time of a small convolution forward and backward (a DCGAN layer: batch 64, 64 -> 128 channels,
    14x14), under autocast to ``dtype`` or in float32 (None). Inputs come from a local generator: the
    global random stream is not touched."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 64, 14, 14, generator=generator)
    weight = torch.randn(128, 64, 3, 3, generator=generator).mul_(0.05).requires_grad_(True)
    best = float("inf")
    for round_ in range(rounds + 1):  # round 0 warms oneDNN's kernel choice up and is not counted
        weight.grad = None
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
            out = torch.nn.functional.conv2d(x, weight, padding=1)
        out.float().square().mean().backward()
        if round_:
            best = min(best, time.perf_counter() - start)
    return best


def bf16_is_faster_on_cpu() -> bool:
    """Whether bf16 autocast pays on this CPU: it has bf16 units, and a short convolution trial (about 0.3 s)
    runs at least ``BF16_MIN_SPEEDUP`` times faster in bf16. The flags alone do not settle it: on one
    AVX512-BF16 machine without AMX bf16 was slower than float32 (docs/speed.md), on another 1.3x faster."""
    if not cpu_has_bf16_units():
        return False
    return conv_step_seconds(None) >= BF16_MIN_SPEEDUP * conv_step_seconds(torch.bfloat16)


def resolve_amp(amp: str, device: torch.device) -> str:
    """``train.amp``: ``auto`` becomes ``bf16`` where bf16 is fast (a CUDA GPU that supports it, a CPU where
    ``bf16_is_faster_on_cpu``), else ``none``; the other values are returned as they are."""
    if amp != "auto":
        return amp
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "none"
    return "bf16" if device.type == "cpu" and bf16_is_faster_on_cpu() else "none"
