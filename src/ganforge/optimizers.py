"""The optimizer every recipe builds, and the learning-rate decay some use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from ganforge.errors import GanforgeError


def adam(params: Any, lr: float, betas: tuple[float, float], device: torch.device) -> torch.optim.Adam:
    """Adam with one fused kernel per parameter on the CPU and CUDA, multi-tensor (foreach) elsewhere."""
    fused = device.type in ("cpu", "cuda")
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=not fused, fused=fused or None)


def linear_decay(total_steps: int, decay_start: float) -> Callable[[int], float]:
    """LR factor: 1 until ``decay_start * total_steps``, then linearly to 0 at ``total_steps`` (CycleGAN)."""
    start = int(decay_start * total_steps)

    def factor(step: int) -> float:
        if step < start:
            return 1.0
        return max(0.0, 1.0 - (step - start) / max(1, total_steps - start))

    return factor


class LinearDecay:
    """Every optimizer's learning rate held, then decayed linearly to 0 over the last ``share`` of
    ``total_steps``. Stepped once per training step; its state (the step count) goes into checkpoints, so a
    resumed run continues the schedule exactly (a resume with a new step count stretches what is left)."""

    def __init__(self, optimizers: Sequence[torch.optim.Optimizer], total_steps: int, share: float) -> None:
        factor = linear_decay(total_steps, 1.0 - share)
        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(o, factor) for o in optimizers]

    def step(self) -> None:
        for scheduler in self.schedulers:
            scheduler.step()

    def state_dict(self) -> dict[str, Any]:
        return {"schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for scheduler, saved in zip(self.schedulers, state["schedulers"], strict=True):
            scheduler.load_state_dict(saved)


def build_lr_decay(optimizers: Sequence[torch.optim.Optimizer], share: float, steps: int,
                   minutes: float | None) -> LinearDecay | None:
    """The run's ``optim.lr_decay`` (``share``) as a ``LinearDecay``, or None when it is 0."""
    if share <= 0:
        return None
    if minutes is not None:
        raise GanforgeError("optim.lr_decay needs the run's length in steps: train with --steps, not --minutes "
                            "(or --set optim.lr_decay=0)")
    return LinearDecay(optimizers, steps, share)
