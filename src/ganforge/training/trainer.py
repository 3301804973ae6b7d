"""The generic training loop. It knows nothing about GAN variants: the recipe owns ``train_step``.

Per step: take ``recipe.batches_per_step`` batches from the stream, run the recipe's step, accumulate its
scalars on the device (no host sync), and every ``log_every`` steps sync once to log, check that the
losses are finite and tell the callbacks.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import Tensor

from ganforge.data.stream import BatchStream
from ganforge.errors import GanforgeError
from ganforge.parallel import World, barrier
from ganforge.training.checkpoint import capture_rng_state, restore_rng_state, save_checkpoint
from ganforge.version import __version__

CHECKPOINT_FORMAT = 1


class Recipe(Protocol):
    batches_per_step: int

    def train_step(self, batches: Sequence[tuple[Tensor, Tensor]]) -> dict[str, Tensor]: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class Callback:
    """Hooks called by the Trainer; override what you need."""

    def on_train_start(self, trainer: Trainer) -> None: ...
    def on_step_end(self, trainer: Trainer) -> None: ...
    def on_log(self, trainer: Trainer, record: dict[str, float]) -> None: ...
    def on_train_end(self, trainer: Trainer) -> None: ...


class NonFiniteLossError(GanforgeError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


class DivergedError(GanforgeError):
    """A loss grew past ``DIVERGED_LOSS``: the run exploded without becoming NaN; the last good checkpoint is kept."""


DIVERGED_LOSS = 1e6  # |loss| of every GAN loss here stays far below this in a healthy run (bce ~1, wgan ~1e2)


class TrainingInterrupted(GanforgeError):
    """Ctrl-C: a checkpoint was saved before stopping."""


class Trainer:
    """Runs a recipe on a batch stream to a number of steps, with checkpoints and callbacks."""

    def __init__(
        self,
        recipe: Recipe,
        stream: BatchStream,
        checkpoint_path: Path,
        extra_state: dict[str, Any] | None = None,
        callbacks: Sequence[Callback] = (),
        log_every: int = 25,
        checkpoint_every: int = 500,
        world: World = World(),
    ) -> None:
        self.recipe = recipe
        self.world = world  # in distributed training only rank 0 writes checkpoints
        self.stream = stream
        self.checkpoint_path = checkpoint_path
        self.extra_state = extra_state or {}
        self.callbacks = list(callbacks)
        self.log_every = log_every
        self.checkpoint_every = checkpoint_every
        self.step = 0
        self.total_steps = 0
        self.saved_step = -1
        self._sums: dict[str, Tensor] = {}
        self._count = 0
        self._first_bad_step: Tensor | None = None
        self._last_log_time = 0.0
        self._last_log_step = 0

    # --- state -----------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "version": __version__,
            "step": self.step,
            "recipe": self.recipe.state_dict(),
            "data": self.stream.state_dict(),
            "rng": capture_rng_state(),
            **self.extra_state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.recipe.load_state_dict(state["recipe"])
        self.stream.load_state_dict(state["data"])
        restore_rng_state(state["rng"])
        self.step = self.saved_step = self._last_log_step = int(state["step"])

    def save_checkpoint(self, path: Path | None = None) -> None:
        """Save the full state, unless a loss went non-finite since the last check (keep the good one).

        With ``path`` (e.g. a best-so-far copy), write there and leave the regular checkpoint alone.
        """
        self.check_finite()
        if self.world.is_main:
            save_checkpoint(self.state_dict(), path or self.checkpoint_path)
        if path is None:  # regular checkpoints are saved by every process together; extra copies by rank 0 alone
            barrier(self.world)
            self.saved_step = self.step

    def emit(self, record: dict[str, float]) -> None:
        """Hand a record (losses, an evaluation, ...) to every callback's ``on_log``."""
        self._notify(lambda cb: cb.on_log(self, record))

    # --- loop ------------------------------------------------------------------------------------

    def fit(self, total_steps: int) -> None:
        """Train until ``self.step == total_steps``.

        Ctrl-C (or SIGTERM, SIGHUP) finishes the current step, saves a checkpoint and raises
        TrainingInterrupted; a second one stops at once.
        """
        self.total_steps = total_steps
        self._last_log_time = time.perf_counter()
        self._notify(lambda cb: cb.on_train_start(self))
        try:
            with _deferred_interrupt() as interrupted:
                while self.step < self.total_steps and not interrupted():  # a time budget may re-plan it
                    self._one_step()
                if self.saved_step != self.step:
                    self.save_checkpoint()
                if interrupted():
                    by = "" if interrupted() == "SIGINT" else f" by {interrupted()}"
                    raise TrainingInterrupted(
                        f"interrupted{by} at step {self.step}; checkpoint saved to {self.checkpoint_path}. "
                        f"Continue with: ganforge resume {self.checkpoint_path.parent.parent}"
                    )
        except BaseException:
            # The run already failed or stopped: the final previews and plots are a courtesy, and an error
            # while writing them (a full disk, most often) must not hide the real cause.
            with contextlib.suppress(Exception):
                self._notify(lambda cb: cb.on_train_end(self))
            raise
        self._notify(lambda cb: cb.on_train_end(self))

    def _one_step(self) -> None:
        batches = [self.stream.next() for _ in range(self.recipe.batches_per_step)]
        scalars = self.recipe.train_step(batches)
        self.step += 1
        self._accumulate(scalars)
        if self.step % self.log_every == 0 or self.step == self.total_steps:
            self._log()
        self._notify(lambda cb: cb.on_step_end(self))
        if self.step % self.checkpoint_every == 0:
            self.save_checkpoint()

    def _accumulate(self, scalars: dict[str, Tensor]) -> None:
        values = torch.stack([v.detach().float() for v in scalars.values()])
        bad_now = ~torch.isfinite(values).all()
        if self._first_bad_step is None:
            self._first_bad_step = torch.full((), -1, dtype=torch.long, device=values.device)
        first_unset = self._first_bad_step < 0
        self._first_bad_step = torch.where(bad_now & first_unset, self.step, self._first_bad_step)
        for key, value in zip(scalars, values, strict=True):
            self._sums[key] = self._sums[key] + value if key in self._sums else value
        self._count += 1

    def check_finite(self) -> None:
        if self._first_bad_step is None:
            return
        bad_step = int(self._first_bad_step)
        if bad_step >= 0:
            kept = (
                f"the last good checkpoint (step {self.saved_step}) is kept in {self.checkpoint_path}"
                if self.saved_step >= 0
                else "no checkpoint had been saved yet"
            )
            raise NonFiniteLossError(
                f"a loss became NaN or infinite at step {bad_step}; {kept}. "
                "Try a lower learning rate (--set optim.d_lr=1e-4 --set optim.g_lr=1e-4) or another loss."
            )

    def _log(self) -> None:
        self.check_finite()
        now = time.perf_counter()
        steps = self.step - self._last_log_step
        images = steps * self.recipe.batches_per_step * self.stream.batch_size * self.world.size
        record: dict[str, float] = {"step": self.step}
        record.update({k: float(v) / self._count for k, v in self._sums.items()})
        record["images_per_sec"] = images / max(now - self._last_log_time, 1e-9)
        self._check_not_diverged(record)
        self._sums, self._count = {}, 0
        self._last_log_time, self._last_log_step = now, self.step
        self.emit(record)

    def _check_not_diverged(self, record: dict[str, float]) -> None:
        exploded = {k: v for k, v in record.items() if k.endswith("loss") and abs(v) > DIVERGED_LOSS}
        if not exploded:
            return
        shown = ", ".join(f"{k} {v:.3g}" for k, v in exploded.items())
        kept = (f"the last good checkpoint (step {self.saved_step}) is kept" if self.saved_step >= 0
                else "no checkpoint had been saved yet")
        raise DivergedError(
            f"training diverged by step {self.step}: {shown} (a healthy GAN's losses stay far below "
            f"{DIVERGED_LOSS:.0e}); {kept}. The learning rates are too high: try the usual 2e-4 or lower "
            "(--set optim.g_lr=2e-4 --set optim.d_lr=2e-4)"
        )

    def _notify(self, call: Callable[[Callback], None]) -> None:
        for callback in self.callbacks:
            call(callback)


STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")  # Ctrl-C; schedulers, `docker stop` and `kill`; a closed terminal


@contextmanager
def _deferred_interrupt() -> Iterator[Callable[[], str | None]]:
    """Turn the first SIGINT, SIGTERM or SIGHUP into a flag checked between steps, so the checkpoint is a clean
    step boundary; a second one stops at once. Yields a function giving the signal's name, or None."""
    received: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: None
        return
    signals = [getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)]
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def handle(signum: int, frame: Any) -> None:
        if received:
            raise KeyboardInterrupt
        received.append(signal.Signals(signum).name)

    for sig in signals:
        signal.signal(sig, handle)
    try:
        yield lambda: received[0] if received else None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
