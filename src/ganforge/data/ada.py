"""ADA, adaptive discriminator augmentation (Karras et al. 2020), for training from little data.

Every image the discriminator sees, real or fake, in the D step and the G step, goes through a chain of
differentiable augmentations; each one is applied to each image with probability ``p``. ``p`` starts at
0 and is steered by the overfitting signal ``r_t = E[sign(D(real))]``: every ``interval`` D steps, if
``r_t`` is above ``target`` (D is too sure about the training images) ``p`` rises, otherwise it falls,
by ``batch * interval / (speed_kimg * 1000)`` per adjustment. With ``p`` below about 0.8 the
augmentations do not leak into the generated images. ``p`` and the running signal are saved in
checkpoints, so a resumed run continues with the same ``p``.

No host synchronization: ``p`` lives on the device and is updated there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor

from ganforge.data.diffaugment import brightness, contrast, cutout, saturation, translation
from ganforge.errors import GanforgeError
from ganforge.parallel import all_reduce_sum
from ganforge.registry import unknown_name_message


def xflip(x: Tensor) -> Tensor:
    return x.flip(3)


def rotate90(x: Tensor) -> Tensor:
    """Rotate each image by a random multiple of 90 degrees (square images)."""
    turns = torch.randint(0, 4, (x.shape[0],), device=x.device)
    out = x
    for k in (1, 2, 3):
        out = torch.where((turns == k).view(-1, 1, 1, 1), x.rot90(k, dims=(2, 3)), out)
    return out


def geometric(x: Tensor) -> Tensor:
    """Isotropic scale (log-normal, std 0.2 * ln 2) and rotation (uniform +-180 degrees * 0.25), bilinear."""
    batch = x.shape[0]
    scale = torch.exp2(torch.randn(batch, device=x.device) * 0.2)
    angle = (torch.rand(batch, device=x.device) * 2 - 1) * math.pi * 0.25
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    zeros = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def color(x: Tensor) -> Tensor:
    return contrast(saturation(brightness(x)))


ADA_OPS: dict[str, Callable[[Tensor], Tensor]] = {
    "xflip": xflip,
    "rotate90": rotate90,
    "translation": translation,
    "geometric": geometric,
    "color": color,
    "cutout": cutout,
}
DEFAULT_ADA_POLICY = ("xflip", "rotate90", "translation", "geometric", "color")


def check_ada_policy(policy: Sequence[str]) -> None:
    for name in policy:
        if name not in ADA_OPS:
            raise GanforgeError(unknown_name_message("ADA op", name, list(ADA_OPS)))


class AdaptiveAugment:
    """The augmentation chain with its adaptive probability. Call it on a batch; feed it D's real logits."""

    def __init__(
        self,
        policy: Sequence[str] = DEFAULT_ADA_POLICY,
        target: float = 0.6,
        speed_kimg: float = 100.0,
        interval: int = 4,
        device: torch.device | str = "cpu",
        initial_p: float = 0.0,
    ) -> None:
        check_ada_policy(policy)
        self.ops = [ADA_OPS[name] for name in policy]
        self.target = target
        self.speed_kimg = speed_kimg
        self.interval = interval
        self.p = torch.tensor(float(initial_p), device=device)
        self.signal = torch.tensor(0.0, device=device)  # the last r_t
        self._sign_sum = torch.tensor(0.0, device=device)
        self._count = 0  # real logits seen since the last adjustment
        self._observations = 0

    def __call__(self, x: Tensor) -> Tensor:
        for op in self.ops:
            apply = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < self.p
            x = torch.where(apply, op(x), x)
        return x

    def observe(self, real_logits: Tensor) -> None:
        """Record one D step's logits on real images; adjust ``p`` every ``interval`` steps."""
        self._sign_sum += real_logits.detach().float().sign().sum()
        self._count += real_logits.numel()
        self._observations += 1
        if self._observations % self.interval == 0:
            # several training processes: the signal and the step count all of their real images
            sign_sum = all_reduce_sum(self._sign_sum.clone())
            count = self._count * (dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1)
            self.signal = sign_sum / count
            step = count / (self.speed_kimg * 1000)
            self.p = (self.p + torch.sign(self.signal - self.target) * step).clamp(0.0, 1.0)
            self._sign_sum = torch.zeros_like(self._sign_sum)
            self._count = 0

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p, "signal": self.signal, "sign_sum": self._sign_sum, "count": self._count,
                "observations": self._observations}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        device = self.p.device
        self.p = state["p"].to(device)
        self.signal = state["signal"].to(device)
        self._sign_sum = state["sign_sum"].to(device)
        self._count = int(state["count"])
        self._observations = int(state["observations"])
