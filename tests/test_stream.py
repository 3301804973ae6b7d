"""The resumable batch stream: positioned sampling, epochs, scaling to [-1, 1], state, worker processes."""

from __future__ import annotations

from itertools import islice

import pytest
import torch

from ganforge.data import TensorImageDataset, build_dataset
from ganforge.data.stream import BatchStream, PositionedBatchSampler

pytestmark = pytest.mark.usefixtures("single_thread")

CPU = torch.device("cpu")


def batches(sampler: PositionedBatchSampler, n: int) -> list[list[int]]:
    return list(islice(iter(sampler), n))


def numbered_dataset(n: int) -> TensorImageDataset:
    """Item i is a 1x2x2 image whose pixels are all i (so a batch tells which items it holds), label i % 10."""
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()
    return TensorImageDataset("numbered", images, torch.arange(n) % 10, [str(d) for d in range(10)])


def item_ids(images: torch.Tensor) -> list[int]:
    """Back from the [-1, 1] floats of a numbered_dataset batch to the item numbers."""
    return ((images[:, 0, 0, 0] + 1) * 127.5).round().long().tolist()


@pytest.fixture(scope="module")
def digits8():
    return build_dataset("digits8")


# --- PositionedBatchSampler ------------------------------------------------------------------------

SIZES = [(10, 3), (12, 4), (7, 7), (5, 8), (1, 3), (100, 16)]  # incl. a data set smaller than a batch


@pytest.mark.parametrize(("num_items", "batch_size"), SIZES)
def test_starting_at_p_continues_the_stream_from_0(num_items, batch_size):
    reference = batches(PositionedBatchSampler(num_items, batch_size, seed=3), 40)
    assert all(len(b) == batch_size for b in reference)
    for p in range(0, 30):
        assert batches(PositionedBatchSampler(num_items, batch_size, seed=3, start=p), 10) == reference[p : p + 10], p


@pytest.mark.parametrize(("num_items", "batch_size"), SIZES)
def test_each_epoch_visits_every_item_once(num_items, batch_size):
    epochs = 5
    needed = -(-epochs * num_items // batch_size)
    flat = [i for b in batches(PositionedBatchSampler(num_items, batch_size, seed=0), needed) for i in b]
    orders = [flat[e * num_items : (e + 1) * num_items] for e in range(epochs)]
    for order in orders:
        assert sorted(order) == list(range(num_items))
    if num_items >= 5:
        assert len({tuple(o) for o in orders}) > 1  # reshuffled every epoch
        assert orders[0] != list(range(num_items))  # and shuffled at all


def test_the_order_is_a_function_of_the_seed():
    same = batches(PositionedBatchSampler(50, 8, seed=1), 7)
    assert same == batches(PositionedBatchSampler(50, 8, seed=1), 7)
    assert same != batches(PositionedBatchSampler(50, 8, seed=2), 7)


# --- BatchStream -----------------------------------------------------------------------------------


def test_batches_are_scaled_to_minus_one_one_with_their_labels(digits8):
    stream = BatchStream(digits8, batch_size=32, seed=5, device=CPU)
    order = iter(PositionedBatchSampler(len(digits8), 32, seed=5))
    for _ in range(3):
        images, labels = stream.next()
        idx = next(order)
        assert images.shape == (32, 1, 8, 8) and images.dtype == torch.float32 and images.device == CPU
        assert labels.dtype == torch.int64 and labels.device == CPU
        assert torch.equal(images, digits8.images[idx].float() / 127.5 - 1)
        assert torch.equal(labels, digits8.labels[idx])
        assert images.min() >= -1 and images.max() <= 1
    assert stream.position == 3
    # the extremes of the uint8 range map exactly onto -1 and 1
    extremes = numbered_dataset(256)
    images, _ = BatchStream(extremes, batch_size=256, seed=0, device=CPU).next()
    assert images.min() == -1 and images.max() == 1


def test_state_dict_continues_identically():
    data = numbered_dataset(20)
    stream = BatchStream(data, batch_size=6, seed=7, device=CPU)
    for _ in range(5):  # past the first epoch boundary
        stream.next()
    state = stream.state_dict()
    assert state == {"position": 5}
    expected = [stream.next() for _ in range(6)]

    fresh = BatchStream(data, batch_size=6, seed=7, device=CPU)
    fresh.load_state_dict(state)
    for want, (images, labels) in zip(expected, (fresh.next() for _ in range(6)), strict=True):
        assert torch.equal(want[0], images) and torch.equal(want[1], labels)

    stream.load_state_dict(state)  # rewinding a stream that is mid-way also works
    assert torch.equal(stream.next()[0], expected[0][0])
    assert stream.position == 6


def test_stream_order_matches_the_sampler_across_epochs():
    data = numbered_dataset(5)
    stream = BatchStream(data, batch_size=8, seed=2, device=CPU)  # smaller than one batch
    got = [item_ids(stream.next()[0]) for _ in range(4)]
    assert got == batches(PositionedBatchSampler(5, 8, seed=2), 4)


def test_worker_processes_give_the_same_batches(digits8):
    inline = BatchStream(digits8, batch_size=64, seed=4, device=CPU, num_workers=0)
    workers = BatchStream(digits8, batch_size=64, seed=4, device=CPU, num_workers=2)
    for _ in range(30):  # 30 x 64 > 1797: crosses an epoch boundary
        a, b = inline.next(), workers.next()
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])

    resumed = BatchStream(digits8, batch_size=64, seed=4, device=CPU, num_workers=2)
    resumed.load_state_dict(inline.state_dict())
    for _ in range(3):
        assert torch.equal(inline.next()[0], resumed.next()[0])


def test_augmented_batches_follow_the_global_torch_seed(digits8):
    def draw() -> torch.Tensor:
        torch.manual_seed(11)
        stream = BatchStream(digits8, batch_size=32, seed=0, device=CPU, augment=["flip", "rotate"])
        return torch.cat([stream.next()[0] for _ in range(2)])

    plain = BatchStream(digits8, batch_size=32, seed=0, device=CPU)
    clean = torch.cat([plain.next()[0] for _ in range(2)])
    first = draw()
    assert first.shape == clean.shape and first.min() >= -1 and first.max() <= 1
    assert not torch.equal(first, clean)
    assert torch.equal(first, draw())
