"""Shared fixtures of the training, CLI and stream tests: tiny configs and a single torch thread."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from ganforge import Config, load_config

# 8x8 digits, 8-channel networks, 6 steps: a whole run takes well under a second.
TINY_OVERRIDES = [
    "data.name=digits8",
    "data.batch_size=16",
    "model.z_dim=16",
    "model.g_width=8",
    "model.d_width=8",
    "train.steps=6",
    "train.log_every=2",
    "train.sample_every=3",
    "train.checkpoint_every=3",
    "train.grid_size=4",
    "train.device=cpu",
]


@pytest.fixture(scope="module")
def single_thread():
    """One intra-op torch thread while a module runs (restored afterwards).

    The models are tiny, so a second thread buys nothing; and when another process is using the two
    cores, two spinning OpenMP threads made a 200-step run 30x slower (131 s instead of 4 s).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_overrides() -> list[str]:
    return list(TINY_OVERRIDES)


@pytest.fixture(scope="session")
def tiny_config() -> Callable[..., Config]:
    """``tiny_config("loss.name=hinge", ...)``: the plain DCGAN preset (`dcgan`) made tiny, plus more overrides."""

    def make(*overrides: str) -> Config:
        return load_config("dcgan", overrides=[*TINY_OVERRIDES, *overrides])

    return make
