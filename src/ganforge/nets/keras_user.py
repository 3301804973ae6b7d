"""Keras 3 networks: ``model.arch: keras`` trains a ``keras.Model`` G and D with ganforge's trainer.

Under Keras 3's PyTorch backend (``KERAS_BACKEND=torch``) a Keras model is a ``torch.nn.Module`` whose
variables are torch Parameters. ``KerasModule`` holds one model and registers exactly its ``weights`` (trainable
and non-trainable, in the model's own order) as its parameters: the state dict keys are ``weights.0``,
``weights.1``, ... whatever names Keras gave the layers in this process, so a run saves and loads like any
other. It passes ``training=`` from the torch mode (BatchNorm, Dropout) and converts between ganforge's
channels-first images and Keras's ``image_data_format`` (channels-last by default). Unseeded Keras dropout draws
from torch's RNG, which the checkpoint holds, so a run resumes exactly.

The factories are named and called as for ``model.arch: python`` (see ganforge.nets.user) and return a
``keras.Model``; the keyword arguments are the same.
"""

from __future__ import annotations

import copy
import os
import random
from pathlib import Path
from typing import Any, Literal

import torch
from pydantic import Field
from torch import Tensor, nn

from ganforge.errors import GanforgeError
from ganforge.nets.layers import ArchSpec, ImageShape
from ganforge.nets.user import UserNetsConfig, build_checked, call_factory


class KerasNetsConfig(UserNetsConfig):
    """Your own Keras 3 generator and discriminator (run under Keras's PyTorch backend)."""

    arch: Literal["keras"] = "keras"  # type: ignore[assignment]
    generator: str = Field(description="package.module:make_generator or path/to/nets.py:make_generator "
                                       "returning a keras.Model")
    discriminator: str = Field(description="package.module:make_discriminator or path/to/nets.py:... returning a "
                                           "keras.Model")


def import_keras() -> Any:
    """Keras 3 on its PyTorch backend; a one-line error for another backend or a missing package."""
    backend = os.environ.setdefault("KERAS_BACKEND", "torch")
    if backend != "torch":
        raise GanforgeError(f"KERAS_BACKEND={backend}: ganforge trains Keras models on the torch backend only; "
                            "unset KERAS_BACKEND or set it to torch")
    try:
        import keras
    except ImportError:
        raise GanforgeError("model.arch keras needs Keras 3: pip install 'ganforge[keras]'") from None
    if keras.backend.backend() != "torch":
        raise GanforgeError(f"Keras was already imported with the {keras.backend.backend()} backend; ganforge "
                            "needs KERAS_BACKEND=torch set before Keras is first imported")
    return keras


class KerasModule(nn.Module):
    """One Keras model as a torch module: its weights as parameters, ``training`` from the torch mode.

    ``role`` says which side holds images: a generator's output, a discriminator's first input."""

    opaque = True  # torch cannot see the Keras layers: treat the net as batch-dependent (BatchNorm, dropout)

    def __init__(self, model: Any, role: Literal["generator", "discriminator"]) -> None:
        super().__init__()
        object.__setattr__(self, "keras_model", model)  # not a submodule: its own keys vary between processes
        self.role = role
        self.weights = nn.ParameterList([variable.value for variable in model.weights])
        self.channels_last = import_keras().config.image_data_format() == "channels_last"

    def forward(self, *inputs: Tensor) -> Tensor:
        if self.role == "discriminator" and self.channels_last:
            inputs = (inputs[0].permute(0, 2, 3, 1), *inputs[1:])
        out = self.keras_model(inputs[0] if len(inputs) == 1 else list(inputs), training=self.training)
        if self.role == "generator" and self.channels_last and out.dim() == 4:
            out = out.permute(0, 3, 1, 2)
        return out

    def __deepcopy__(self, memo: dict[int, Any]) -> KerasModule:
        """A copy with its own Keras model whose variables are the copy's parameters (the EMA generator)."""
        twin = KerasModule(copy.deepcopy(self.keras_model, memo), self.role)
        twin.load_state_dict(self.state_dict())
        return twin.train(self.training).requires_grad_(any(p.requires_grad for p in self.parameters()))


def keras_module(spec: str, key: str, arguments: dict[str, Any]) -> KerasModule:
    """The Keras model made by the factory ``spec``, wrapped; Keras's initial weights come from torch's RNG."""
    keras = import_keras()
    state = random.getstate()
    random.seed(int(torch.randint(0, 2**31 - 1, ())))  # Keras draws its default seeds from Python's random
    try:
        model = call_factory(spec, key, arguments)
    finally:
        random.setstate(state)
    if not isinstance(model, keras.Model):
        raise GanforgeError(f"{key}: {spec} returned {type(model).__name__}, not a keras.Model")
    return KerasModule(model, "generator" if key.endswith("generator") else "discriminator")


def build(cfg: KerasNetsConfig, image_shape: ImageShape) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator) from the user's Keras factories, checked like the python arch's."""
    return build_checked(cfg, image_shape, keras_module)


def export_keras(generator: nn.Module, out: Path) -> float:
    """Save a keras-arch generator as a ``.keras`` file, load it back with Keras, and return the largest
    difference between the two on a check batch."""
    inner = getattr(generator, "net", None)
    if not isinstance(inner, KerasModule):
        raise GanforgeError("--format keras needs a run with model.arch keras; export this run as safetensors, "
                            "onnx or torchscript")
    keras = import_keras()
    inner.keras_model.save(str(out))
    reloaded = keras.saving.load_model(str(out))
    z = torch.randn(4, generator.z_dim, generator=torch.Generator().manual_seed(0))
    inputs: Any = z if not generator.num_classes else [z, torch.arange(4) % generator.num_classes]
    device = next(generator.parameters()).device
    with torch.no_grad():
        ours = inner.keras_model(inputs, training=False)
        theirs = reloaded(inputs, training=False)
    return float((torch.as_tensor(ours).to(device) - torch.as_tensor(theirs).to(device)).abs().max())


SPEC = ArchSpec(
    config=KerasNetsConfig,
    build=build,
    size_ok=lambda size: size >= 1,
    description="your own Keras 3 G and D (keras.Model factories, torch backend; pip install 'ganforge[keras]')",
)
