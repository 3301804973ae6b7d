"""Export a run's generator for use outside the training code, and load it back.

- ``safetensors``: the generator's weights (``PATH``) and a JSON file beside it (``PATH`` with ``.json``)
  holding the model config and image shape. ``ganforge.load(PATH)`` rebuilds the network from these two
  files alone: no run folder, no pickle.
- ``torchscript``: a traced module (``torch.jit.load(PATH)``), inputs ``z`` (and ``labels`` when
  conditional).
- ``onnx``: an ONNX graph with a dynamic batch axis, checked against PyTorch with onnxruntime (the
  largest absolute difference is returned).
- ``keras``: a ``.keras`` file of a ``model.arch: keras`` run's generator (``keras.saving.load_model``),
  loaded back with Keras and checked against the run's model (the largest absolute difference is returned).
- Your own networks (``model.arch: python``) export as far as their modules allow tracing.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.families.images.model import ImageModel
from ganforge.nets import build_networks
from ganforge.nets.keras_user import export_keras
from ganforge.version import __version__

FORMATS = ("safetensors", "onnx", "torchscript", "keras")
SUFFIXES = {"safetensors": (".safetensors",), "onnx": (".onnx",), "torchscript": (".pt", ".pth", ".ts"),
            "keras": (".keras",)}
CHECK_BATCH = 4


def metadata_path(path: Path) -> Path:
    return path.with_suffix(".json")


def export_generator(model: ImageModel, fmt: str, out: str | Path) -> dict[str, Any]:
    """Write a loaded image model's generator in ``fmt``; returns a summary (path, and ONNX parity)."""
    if fmt not in FORMATS:
        raise GanforgeError(f"unknown export format '{fmt}': use one of {', '.join(FORMATS)}")
    out = Path(out)
    if out.suffix.lower() not in SUFFIXES[fmt]:
        raise GanforgeError(f"--out {out} does not end in {' or '.join(SUFFIXES[fmt])} as --format {fmt} files do "
                            f"(the metadata goes beside it as .json); e.g. --out {out.with_suffix(SUFFIXES[fmt][0])}")
    out.parent.mkdir(parents=True, exist_ok=True)
    generator = model.generator
    summary: dict[str, Any] = {"format": fmt, "path": str(out)}
    if fmt == "safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in generator.state_dict().items()}, str(out))
        meta = {"ganforge": __version__, "kind": "generator", "model": model.model_config.model_dump(mode="json"),
                "image_shape": list(generator.image_shape), "source_run": str(model.source.resolve()),
                "generator": "ema" if model.ema else "raw", "data": model.data_name}
        metadata_path(out).write_text(json.dumps(meta, indent=2) + "\n")
        summary["config"] = str(metadata_path(out))
    elif fmt == "keras":
        summary["max_abs_diff"] = export_keras(generator, out)
    elif fmt == "torchscript":
        with warnings.catch_warnings(), traceable(fmt):  # deprecated for torch.export, still the portable format
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", torch.jit.TracerWarning)  # foreign modules (Keras) warn on constants
            traced = torch.jit.trace(generator, example_inputs(generator), check_trace=False)
        traced.save(str(out))
    else:
        with traceable(fmt):
            summary["max_abs_diff"] = export_onnx(generator, out)
    for written in (out, metadata_path(out)) if fmt == "safetensors" else (out,):
        with_user_permissions(written)
    return summary


@contextmanager
def traceable(fmt: str) -> Iterator[None]:
    """A generator the tracer cannot follow (your own or Keras networks) fails with one line naming the format."""
    try:
        yield
    except GanforgeError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:160]
        raise GanforgeError(f"this generator cannot be exported as {fmt} ({type(exc).__name__}: {first}); "
                            "try --format safetensors") from None


def with_user_permissions(path: Path) -> None:
    """Give a written file the permissions of the user's umask (some writers create files 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def example_inputs(generator: nn.Module, batch: int = CHECK_BATCH) -> tuple[torch.Tensor, ...]:
    z = torch.randn(batch, generator.z_dim, generator=torch.Generator().manual_seed(0))
    if getattr(generator, "num_classes", 0):
        return z, torch.arange(batch) % generator.num_classes
    return (z,)


def export_onnx(generator: nn.Module, out: Path) -> float:
    """Export to ONNX and return max |onnxruntime - PyTorch| on a check batch."""
    try:
        import onnxruntime
    except ImportError:
        raise GanforgeError("ONNX export needs onnx and onnxruntime: pip install 'ganforge[export]'") from None
    inputs = example_inputs(generator)
    names = ["z", "labels"][: len(inputs)]
    with warnings.catch_warnings():  # the TorchScript-based exporter is deprecated, but needs no onnxscript
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(generator, inputs, str(out), input_names=names, output_names=["images"],
                          dynamic_axes={name: {0: "batch"} for name in [*names, "images"]}, dynamo=False)
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    feed = {name: tensor.numpy() for name, tensor in zip(names, inputs, strict=True)}
    onnx_images = torch.from_numpy(session.run(None, feed)[0])
    with torch.no_grad():
        torch_images = generator(*inputs)
    return float((onnx_images - torch_images).abs().max())


def load(path: str | Path, device: str | torch.device = "cpu") -> nn.Module:
    """A generator exported as safetensors (with its JSON beside it), in eval mode.

    ``generator = ganforge.load("model.safetensors"); images = ganforge.generate(generator, 16, seed=1)``
    """
    from safetensors.torch import load_file

    from ganforge.families.images.config import ImagesConfig

    path = Path(path)
    meta_file = metadata_path(path)
    if not path.is_file() or not meta_file.is_file():
        raise GanforgeError(f"need {path} and {meta_file} (written by `ganforge export RUN --format safetensors`)")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        model = ImagesConfig.model_validate({"model": meta["model"]}).model
        generator, _ = build_networks(model, tuple(meta["image_shape"]))
    except (ValueError, KeyError, TypeError) as exc:  # JSON, pydantic and shape problems
        raise GanforgeError(f"{meta_file} is not a ganforge export's metadata ({type(exc).__name__}); "
                            "export again with `ganforge export RUN --format safetensors`") from None
    try:
        generator.load_state_dict(load_file(str(path), device=str(device)))
    except Exception as exc:  # safetensors' own error type, or weights that do not fit the config
        raise GanforgeError(f"{path} does not hold this generator's weights ({str(exc).splitlines()[0][:100]})"
                            ) from None
    generator.z_dim = model.z_dim
    return generator.to(device).eval()
