"""Multi-process training with PyTorch's own engine: torchrun + DistributedDataParallel.

``torchrun --nproc_per_node K -m ganforge train ...`` (or ``ganforge train --nproc K``) starts K processes;
each reads RANK / WORLD_SIZE / LOCAL_RANK from the environment. Backend: NCCL on CUDA (one GPU per
process, ``cuda:LOCAL_RANK``), gloo on the CPU. ``data.batch_size`` is per process; the global batch is
``batch_size * world_size``, and every process draws the global noise and takes its own slice, so K
processes follow one process with the global batch (up to floating point, and up to BatchNorm statistics,
which are per process unless ``train.sync_batchnorm`` is on). Only rank 0 writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ganforge.errors import GanforgeError


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def current_world() -> World:
    """The world described by torchrun's environment variables (a single process without them)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    return World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))


def init_distributed(world: World, device: torch.device) -> torch.device:
    """Join the process group (once) and return this process's device."""
    if not world.distributed:
        return device
    if device.type == "cuda":
        device = torch.device("cuda", world.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def wrap(module: nn.Module, world: World, device: torch.device) -> nn.Module:
    """``module`` inside DistributedDataParallel when there are several processes, else unchanged."""
    if not world.distributed:
        return module
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids, broadcast_buffers=False)


def sync_batchnorm(module: nn.Module, world: World, device: torch.device) -> nn.Module:
    """BatchNorm layers that share statistics across processes (CUDA only in PyTorch)."""
    if not world.distributed:
        return module
    if device.type != "cuda":
        raise GanforgeError("train.sync_batchnorm needs CUDA (PyTorch's SyncBatchNorm has no CPU kernel); "
                            "turn it off on the CPU")
    return nn.SyncBatchNorm.convert_sync_batchnorm(module)


def local_slice(tensor: torch.Tensor, world: World) -> torch.Tensor:
    """This process's share of a global batch (the first dimension is split evenly)."""
    if not world.distributed:
        return tensor
    per_rank = tensor.shape[0] // world.size
    return tensor[world.rank * per_rank : (world.rank + 1) * per_rank]


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum over processes (in place when distributed); unchanged in a single process."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(tensor)
    return tensor


def broadcast_string(value: str, world: World) -> str:
    """Rank 0's ``value`` on every process."""
    if not world.distributed:
        return value
    holder = [value]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def gather_in_rank_order(value: object, world: World) -> list[object]:
    """Every process's ``value`` (CPU tensors or plain data), in rank order, on every process."""
    if not world.distributed:
        return [value]
    values: list[object] = [None] * world.size
    dist.all_gather_object(values, value)
    return values
