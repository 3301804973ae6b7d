"""An endless, resumable stream of training batches.

The order of samples is a fixed function of (seed, position): an endless concatenation of per-epoch
permutations, cut into consecutive batches. The stream's whole state is the number of batches it has
handed out, so a resumed run sees exactly the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from ganforge.data.augment import augment_batch
from ganforge.data.base import collate_images, uint8_to_unit
from ganforge.parallel import World


class PositionedBatchSampler(Sampler[list[int]]):
    """Index batches from batch number ``start`` on; epoch e is ``randperm(n)`` seeded by (seed, e).

    With ``world_size`` > 1 (distributed training) the batches are global batches of
    ``batch_size * world_size`` and this process gets its ``rank``-th slice of each (as DistributedSampler
    shares an epoch)."""

    def __init__(self, num_items: int, batch_size: int, seed: int, start: int = 0, rank: int = 0,
                 world_size: int = 1) -> None:
        self.num_items = num_items
        self.batch_size = batch_size * world_size
        self.local = (rank * batch_size, (rank + 1) * batch_size)
        self.seed = seed
        self.start = start

    def _epoch_order(self, epoch: int) -> Tensor:
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)
        return torch.randperm(self.num_items, generator=generator)

    def __iter__(self) -> Iterator[list[int]]:
        offset = self.start * self.batch_size
        epoch, cursor = divmod(offset, self.num_items)
        order = self._epoch_order(epoch)
        while True:
            batch: list[int] = []
            while len(batch) < self.batch_size:
                if cursor == self.num_items:
                    epoch, cursor = epoch + 1, 0
                    order = self._epoch_order(epoch)
                take = min(self.batch_size - len(batch), self.num_items - cursor)
                batch.extend(order[cursor : cursor + take].tolist())
                cursor += take
            yield batch[self.local[0] : self.local[1]]


def prepare_images(batch: Any, device: torch.device) -> tuple[Tensor, Tensor]:
    """A collated (uint8 images, labels) batch -> (float images in [-1, 1], int64 labels) on ``device``."""
    images, labels = batch
    images = uint8_to_unit(images.to(device, non_blocking=True))
    return images, torch.as_tensor(labels).to(device, non_blocking=True)


def prepare_tensors(batch: Any, device: torch.device) -> Any:
    """A collated batch (a tensor, or a tuple/list of tensors) moved to ``device`` unchanged."""
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    return tuple(part.to(device, non_blocking=True) for part in batch)


class BatchStream:
    """Endless batches from a data set, exactly resumable from one integer (the batches handed out).

    By default a batch is (images in [-1, 1] on ``device``, labels) from an image data set; other families
    pass their own ``collate`` (samples -> batch) and ``prepare`` (batch -> what ``train_step`` gets)."""

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        seed: int,
        device: torch.device,
        num_workers: int = 0,
        augment: Sequence[str] = (),
        world: World = World(),
        collate: Callable[[Any], Any] = collate_images,
        prepare: Callable[[Any, torch.device], Any] = prepare_images,
    ) -> None:
        self.dataset = dataset
        self.world = world
        self.batch_size = batch_size
        self.seed = seed
        self.device = device
        self.num_workers = num_workers
        self.augment = list(augment)
        self.collate = collate
        self.prepare = prepare
        self.position = 0
        self._batches: Iterator[Any] | None = None

    def _loader(self) -> Iterator[Any]:
        sampler = PositionedBatchSampler(len(self.dataset), self.batch_size, self.seed, self.position,
                                         self.world.rank, self.world.size)
        loader = DataLoader(
            self.dataset,
            batch_sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=self.collate,
            pin_memory=self.device.type == "cuda",
            persistent_workers=False,
            # Its own generator: creating the iterator must not draw from the global RNG (exact resume).
            generator=torch.Generator().manual_seed(self.seed),
        )
        return iter(loader)

    def next(self) -> Any:
        if self._batches is None:
            self._batches = self._loader()
        batch = self.prepare(next(self._batches), self.device)
        self.position += 1
        if self.augment:
            images, labels = batch
            batch = augment_batch(images, self.augment), labels
        return batch

    def state_dict(self) -> dict[str, int]:
        return {"position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.position = int(state["position"])
        self._batches = None
