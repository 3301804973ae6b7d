"""Training speed: ganforge's trainer against the plain loop everyone writes, on the same machine, same run.

    python benchmarks/speed.py [--models dcgan-28 mlp-28 ...] [--steps 60] [--quick]

For each model (batch 64, BCE non-saturating, Adam 2e-4 (0.5, 0.999)):
- reference: the loop of the PyTorch DCGAN example, written here: a torchvision-style data set with
  per-image ToTensor + Normalize in a DataLoader (shuffle, 2 workers, as the example), D on real then on
  fake.detach() with two backward calls, then G through D with D's weight gradients computed too, and
  ``.item()`` on the losses every step. Same networks (ganforge's builders) and same losses.
- ganforge: ``Trainer`` + ``GANRecipe`` set up as ``ganforge train`` does (in-memory batched data, one
  backward per D step, D frozen in the G step, fused Adam, device-side NaN check, no host sync; on the CPU,
  glibc malloc told to keep freed memory for the next step, see ``ganforge.training.cpu_memory``).
Every loop runs in its own fresh process (a user's script starts with glibc's default malloc), ``--warmup``
steps first, then ``--steps`` timed steps, in alternating rounds (best of each). One more column runs the
reference under ganforge's malloc setting, to show how much of the ratio that setting is. A last column
runs ganforge with bf16 autocast (``train.amp=bf16``): faster where the CPU has bf16 units (AMX /
AVX512-BF16) or on CUDA, but a different precision, so not the like-for-like ratio.
Also printed: the share of the machine's float32 matmul peak (a 2048^3 matmul measured in this run) that
a training step reaches (FLOPs from torch.utils.flop_counter), sampling images/s, and peak memory (CUDA:
max allocated; CPU: max RSS).
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode
from torchvision.transforms import v2

from ganforge import load_config
from ganforge.data import build_dataset
from ganforge.data.stream import BatchStream
from ganforge.devices import prepare_memory, resolve_device
from ganforge.families import family_of
from ganforge.nets import build_networks
from ganforge.training.cpu_memory import keep_freed_memory
from ganforge.training.threads import AdaptiveThreads
from ganforge.training.trainer import Trainer

MODELS = {
    "mlp-28": ["model.arch=mlp", "data.size=28"],
    "dcgan-28": ["data.size=28"],
    "dcgan-32": ["data.size=32"],
    "dcgan-64": ["data.size=64"],
    "resnet-32": ["model.arch=resnet", "model.g_width=64", "model.d_width=64", "data.size=32"],
}
BATCH = 64


class PerImageDigits(Dataset):
    """The embedded digits as a torchvision-style data set: one PIL image at a time, transformed."""

    def __init__(self, size: int) -> None:
        data = build_dataset("digits", size=size)
        self.images, self.labels = data.images, data.labels
        self.transform = v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize([0.5], [0.5])])

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.transform(self.images[i]), int(self.labels[i])


def reference_loop(generator: nn.Module, discriminator: nn.Module, z_dim: int, size: int, steps: int,
                   warmup: int, device: torch.device, workers: int) -> float:
    """Images/s of the PyTorch-DCGAN-example loop."""
    loader = DataLoader(PerImageDigits(size), batch_size=BATCH, shuffle=True, num_workers=workers, drop_last=True,
                        persistent_workers=workers > 0)
    criterion = nn.BCEWithLogitsLoss()
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    done, start = 0, None
    while done < warmup + steps:
        for real, _ in loader:
            if done == warmup:
                start = time.perf_counter()
            real = real.to(device)
            discriminator.zero_grad()
            out = discriminator(real)
            err_real = criterion(out, torch.ones_like(out))
            err_real.backward()
            fake = generator(torch.randn(BATCH, z_dim, device=device))
            out = discriminator(fake.detach())
            err_fake = criterion(out, torch.zeros_like(out))
            err_fake.backward()
            opt_d.step()
            generator.zero_grad()
            out = discriminator(fake)
            err_g = criterion(out, torch.ones_like(out))
            err_g.backward()
            opt_g.step()
            _ = (err_real.item() + err_fake.item(), err_g.item())  # the example prints these every step
            done += 1
            if done == warmup + steps:
                break
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * BATCH / (time.perf_counter() - start)


def ganforge_loop(config, device: torch.device, steps: int, warmup: int) -> tuple[float, Trainer]:
    dataset = build_dataset(config.data.name, config.data.size, config.data.channels)
    recipe = family_of(config).build_recipe(config, dataset, device)
    stream = BatchStream(dataset, BATCH, config.train.seed, device)
    checkpoint = Path(tempfile.mkdtemp()) / "last.pt"  # written once at the end of each fit
    adapt = device.type == "cpu" and config.train.adapt_threads  # as `ganforge train` sets it up
    trainer = Trainer(recipe, stream, checkpoint, {}, [AdaptiveThreads()] if adapt else [], 25, 10**9)
    trainer.fit(warmup)
    start = time.perf_counter()
    trainer.fit(warmup + steps)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * BATCH / (time.perf_counter() - start), trainer


def matmul_peak(device: torch.device, n: int = 2048, repeats: int = 5) -> float:
    """FLOP/s of a float32 n^3 matmul (best of ``repeats``)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(repeats + 1):
        start = time.perf_counter()
        torch.mm(a, b)
        if device.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def step_flops(trainer: Trainer) -> int:
    batches = [trainer.stream.next() for _ in range(trainer.recipe.batches_per_step)]
    with FlopCounterMode(display=False) as counter:
        trainer.recipe.train_step(batches)
    return counter.get_total_flops()


@torch.no_grad()
def sampling_rate(generator: nn.Module, z_dim: int, device: torch.device, batches: int = 20) -> float:
    generator.eval()
    noise = torch.randn(256, z_dim, device=device)
    generator(noise)
    start = time.perf_counter()
    for _ in range(batches):
        generator(noise)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batches * 256 / (time.perf_counter() - start)


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Row:
    model: str
    reference: float
    reference_reused: float
    ours: float
    ours_bf16: float
    peak_share: float
    sampling: float
    memory: float


def in_fresh_process(function, *args):
    """``function(*args)`` in a new Python process: each loop starts from a fresh interpreter and a fresh
    malloc, as a user's script does (and one loop's memory settings cannot help or hurt the other)."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def config_for(overrides: list[str], amp: str = "none"):
    return load_config("dcgan", overrides=[*overrides, f"data.batch_size={BATCH}", f"train.amp={amp}"])


def run_reference(overrides: list[str], steps: int, warmup: int, device_name: str, workers: int,
                  reuse_memory: bool) -> float:
    """Images/s of the reference loop; with ``reuse_memory`` under the malloc setting ganforge uses."""
    device = torch.device(device_name)
    if reuse_memory:
        keep_freed_memory()
    config = config_for(overrides)
    torch.manual_seed(0)
    generator, discriminator = build_networks(config.model, (1, config.data.size, config.data.size))
    return reference_loop(generator.to(device), discriminator.to(device), config.model.z_dim, config.data.size,
                          steps, warmup, device, workers)


def run_ganforge(overrides: list[str], steps: int, warmup: int, device_name: str, amp: str, rate_only: bool = False
                 ) -> tuple[float, float, float, float]:
    """Images/s of ganforge's trainer set up as ``ganforge train`` does, then (float32 only) the share of the
    matmul peak a step reaches, sampling images/s and peak memory."""
    device = torch.device(device_name)
    config = config_for(overrides, amp)
    prepare_memory(config.train.reuse_cpu_memory, device)
    torch.manual_seed(0)
    rate, trainer = ganforge_loop(config, device, steps, warmup)
    if amp != "none" or rate_only:
        return rate, 0.0, 0.0, 0.0
    peak_share = step_flops(trainer) / (BATCH / rate) / matmul_peak(device)
    sampling = sampling_rate(trainer.recipe.generator, config.model.z_dim, device)
    return rate, peak_share, sampling, peak_memory_mb(device)


def measure(name: str, overrides: list[str], steps: int, warmup: int, device: torch.device, workers: int,
            rounds: int) -> Row:
    """Best of ``rounds`` alternating runs of each loop, each in a fresh process (alternating evens out
    drifts of the machine)."""
    device_name = str(device)
    reference = reference_reused = ours = 0.0
    for _ in range(rounds):
        reference = max(reference, in_fresh_process(run_reference, overrides, steps, warmup, device_name, workers,
                                                    False))
        rate, peak_share, sampling, memory = in_fresh_process(run_ganforge, overrides, steps, warmup,
                                                              device_name, "none")
        ours = max(ours, rate)
        reference_reused = max(reference_reused, in_fresh_process(run_reference, overrides, steps, warmup,
                                                                  device_name, workers, True))
    ours_bf16 = in_fresh_process(run_ganforge, overrides, steps, warmup, device_name, "bf16")[0]
    return Row(name, reference, reference_reused, ours, ours_bf16, peak_share, sampling, memory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), help="default: all (--busy: dcgan-28)")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2, help="reference DataLoader workers (the example: 2)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs of each loop; the best counts")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--quick", action="store_true", help="a smoke run: dcgan-28, 3 steps, no workers")
    parser.add_argument("--busy", action="store_true", help="the busy-machine case: each loop alone and beside a "
                        "process that keeps one core busy (benchmarks/busy_machine.py)")
    args = parser.parse_args()
    if args.models is None:
        args.models = ["dcgan-28"] if args.busy else list(MODELS)
    if args.quick:
        args.models, args.steps, args.warmup, args.workers, args.rounds = ["dcgan-28"], 3, 1, 0, 1
    device = resolve_device(args.device)
    if args.busy:
        print_busy_case(args, str(device))
        return
    print(f"device {device}, {torch.get_num_threads()} threads, torch {torch.__version__}, batch {BATCH}, "
          f"{args.steps} timed steps after {args.warmup}, best of {args.rounds} alternating rounds")
    print("| model | reference img/s | ganforge img/s | ratio | reference with ganforge's malloc setting img/s "
          "(ratio) | ganforge bf16 autocast img/s (ratio) | share of fp32 matmul peak | sampling img/s | peak MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.models:
        r = measure(name, MODELS[name], args.steps, args.warmup, device, args.workers, args.rounds)
        print(f"| {name} | {r.reference:.0f} | {r.ours:.0f} | {r.ours / r.reference:.2f}x | {r.reference_reused:.0f} "
              f"({r.ours / r.reference_reused:.2f}x) | {r.ours_bf16:.0f} ({r.ours_bf16 / r.reference:.2f}x) "
              f"| {100 * r.peak_share:.1f}% | {r.sampling:.0f} | {r.memory:.0f} |", flush=True)


def print_busy_case(args: argparse.Namespace, device_name: str) -> None:
    from busy_machine import busy_table

    model = MODELS[args.models[0]]
    fixed = [*model, "train.adapt_threads=false"]
    loops = {
        "reference (plain PyTorch loop)": lambda: in_fresh_process(run_reference, model, args.steps, args.warmup,
                                                                   device_name, args.workers, False),
        "ganforge (adaptive threads, the default)": lambda: in_fresh_process(
            run_ganforge, model, args.steps, args.warmup, device_name, "none", True)[0],
        "ganforge, train.adapt_threads=false": lambda: in_fresh_process(
            run_ganforge, fixed, args.steps, args.warmup, device_name, "none", True)[0],
    }
    print(f"busy-machine case: {args.models[0]}, {torch.get_num_threads()} threads at the start, {args.steps} "
          f"timed steps after {args.warmup}, best of {args.rounds}")
    print("\n".join(busy_table(loops, args.rounds)), flush=True)


if __name__ == "__main__":
    main()
