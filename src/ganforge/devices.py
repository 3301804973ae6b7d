"""Choosing the device, and what training does to CPU memory before it starts."""

from __future__ import annotations

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
