"""Exponential moving average of the generator's weights (used for samples by default)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


class EMA:
    """Keeps ``shadow``, an averaged copy of a model.

    With ``warmup`` the decay ramps up as ``min(decay, (1 + t) / (10 + t))`` so that the first samples are
    not an average dominated by the random initial weights.
    """

    def __init__(self, model: nn.Module, decay: float, warmup: bool = True) -> None:
        self.decay = decay
        self.warmup = warmup
        self.num_updates = 0
        self.shadow = copy.deepcopy(model).eval().requires_grad_(False)

    def current_decay(self) -> float:
        if not self.warmup:
            return self.decay
        return min(self.decay, (1 + self.num_updates) / (10 + self.num_updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.num_updates += 1
        weight = 1.0 - self.current_decay()
        shadow_params = list(self.shadow.parameters())
        torch._foreach_lerp_(shadow_params, [p.detach() for p in model.parameters()], weight)
        for shadow_buf, buf in zip(self.shadow.buffers(), model.buffers(), strict=True):
            shadow_buf.copy_(buf)

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.shadow.state_dict(), "num_updates": self.num_updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.shadow.load_state_dict(state["model"])
        self.num_updates = int(state["num_updates"])
