"""The ``ganforge`` command. Thin: it parses, builds a config and calls the library."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ganforge.errors import GanforgeError

app = typer.Typer(
    help="ganforge: train, sample and inspect Generative Adversarial Networks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

StepsOption = Annotated[int | None, typer.Option("--steps", help="Total generator steps.", min=1)]


@app.command()
def train(
    preset: Annotated[str, typer.Argument(help="Preset name (see `ganforge list`).")] = "default",
    data: Annotated[str | None, typer.Option("--data", help="Data set name or folder:PATH.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML config file (over the preset).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override KEY=VALUE, e.g. optim.g_lr=1e-4.")] = None,
    steps: StepsOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Run folder (default runs/PRESET-TIME).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed: same seed, same run.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="auto, cpu, cuda, cuda:N.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    nproc: Annotated[int, typer.Option("--nproc", help="Processes (DDP): launches torchrun with K processes.",
                                       min=1)] = 1,
    compile_: Annotated[bool, typer.Option("--compile", help="torch.compile G and D (pays on CUDA).")] = False,
) -> None:
    """Train a GAN; with no arguments, the default model on the embedded digits (about 5 minutes on 2 cores)."""
    from ganforge.config import load_config
    from ganforge.runs import train as train_run

    if nproc > 1:
        _launch_torchrun(nproc)

    options: dict = {}
    if data is not None:
        options.setdefault("data", {})["name"] = data
    for key, value in (("steps", steps), ("seed", seed), ("device", device), ("compile", compile_ or None)):
        if value is not None:
            options.setdefault("train", {})[key] = value
    cfg = load_config(preset, config, options, set_ or [])
    run_dir = train_run(cfg, out, progress=not quiet)
    _done(run_dir)


@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="Run folder to continue.")],
    steps: StepsOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Continue a run from its last checkpoint to --steps total steps (exactly as if never stopped)."""
    from ganforge.runs import resume as resume_run

    _done(resume_run(run_dir, steps, progress=not quiet))


@app.command()
def sample(
    run_dir: Annotated[Path, typer.Argument(help="Run folder to sample from.")],
    n: Annotated[int, typer.Option("--n", help="Number of images.", min=1, max=100_000)] = 64,
    out: Annotated[Path, typer.Option("--out", help="A .png path for one grid; otherwise a folder of PNGs.")] = Path(
        "samples.png"
    ),
    seed: Annotated[int, typer.Option("--seed", help="Noise seed: same seed, same images.")] = 0,
    no_ema: Annotated[bool, typer.Option("--no-ema", help="Use the raw generator, not its EMA.")] = False,
    class_index: Annotated[
        int | None, typer.Option("--class", help="Class to draw (conditional runs); default: all classes in turn.")
    ] = None,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N.")] = "cpu",
) -> None:
    """Draw images from a trained run: one grid (PATH.png) or a folder of single PNGs."""
    from ganforge.runs import resolve_device
    from ganforge.runs import sample as sample_run
    from ganforge.viz import save_grid, save_images

    images = sample_run(run_dir, n, seed, ema=not no_ema, device=str(resolve_device(device)), class_index=class_index)
    if out.suffix.lower() == ".png":
        save_grid(images, out)
        typer.echo(f"wrote a grid of {n} images to {out}")
    else:
        save_images(images, out)
        typer.echo(f"wrote {n} images to {out}/")


@app.command()
def augment(
    run_dir: Annotated[Path, typer.Argument(help="A conditional run folder.")],
    per_class: Annotated[int, typer.Option("--per-class", help="Images per class.", min=1, max=100_000)] = 500,
    out: Annotated[Path, typer.Option("--out", help="New folder for the data set.")] = Path("synthetic"),
    seed: Annotated[int, typer.Option("--seed", help="Noise seed: same seed, same images.")] = 0,
    no_ema: Annotated[bool, typer.Option("--no-ema", help="Use the raw generator, not its EMA.")] = False,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N.")] = "cpu",
) -> None:
    """Write a labeled synthetic data set (one folder per class, as ImageFolder reads) with a manifest."""
    from ganforge.apps.augment import export_synthetic_dataset
    from ganforge.runs import resolve_device

    manifest = export_synthetic_dataset(run_dir, out, per_class, seed, not no_ema, str(resolve_device(device)))
    typer.echo(f"wrote {manifest['total']} images in {len(manifest['counts'])} class folders to {out}/ "
               "(manifest.json)")


@app.command()
def translate(
    run_dir: Annotated[Path, typer.Argument(help="A pix2pix or cyclegan run folder.")],
    input_: Annotated[Path, typer.Option("--input", help="An image file or a folder of images (any size).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the translated PNGs.")] = Path("translated"),
    direction: Annotated[str, typer.Option("--direction", help="AtoB, or BtoA (cyclegan runs).")] = "AtoB",
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N.")] = "cpu",
) -> None:
    """Translate your own images with a trained pix2pix or CycleGAN run; each keeps its own size."""
    from ganforge.apps.translate import translate_files
    from ganforge.runs import resolve_device

    written = translate_files(run_dir, input_, out, direction, resolve_device(device))
    typer.echo(f"wrote {len(written)} translated image(s) to {out}/")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (noise-to-image GAN).")],
    fmt: Annotated[str, typer.Option("--format", help="safetensors, onnx or torchscript.")] = "safetensors",
    out: Annotated[Path, typer.Option("--out", help="Output file, e.g. model.safetensors.")] = Path(
        "model.safetensors"
    ),
    no_ema: Annotated[bool, typer.Option("--no-ema", help="Export the raw generator, not its EMA.")] = False,
) -> None:
    """Export a run's generator: safetensors + JSON (load with ganforge.load), ONNX (checked), TorchScript."""
    from ganforge.apps.export import export_generator

    summary = export_generator(run_dir, fmt, out, ema=not no_ema)
    parity = summary.get("max_abs_diff")
    extra = f"; onnxruntime vs PyTorch max abs difference {parity:.2e}" if parity is not None else ""
    config = f" and {summary['config']}" if "config" in summary else ""
    typer.echo(f"wrote {out}{config}{extra}")


@app.command()
def serve(
    runs: Annotated[list[Path], typer.Argument(help="Run folders to serve (generators and translators).")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
) -> None:
    """Serve runs over HTTP: a JSON/PNG API (OpenAPI at /openapi.json) and a web page at /."""
    try:
        import uvicorn

        from ganforge.serve.app import create_app, load_served_models
    except ImportError:
        raise GanforgeError("serving needs FastAPI and uvicorn: pip install 'ganforge[serve]'") from None
    models = load_served_models(runs)
    typer.echo(f"serving {', '.join(models)} on http://{host}:{port}/  (Ctrl-C stops)")
    uvicorn.run(create_app(models), host=host, port=port, log_level="warning")


@app.command("eval")
def eval_(
    target: Annotated[Path, typer.Argument(help="A run folder (samples its EMA generator) or a folder of images.")],
    against: Annotated[str | None, typer.Option("--against", help="Reference data set (default: the run's).")] = None,
    metrics: Annotated[str, typer.Option("--metrics", help="Comma list of fid, kid, is, pr, dc.")] = "fid,kid,pr",
    n: Annotated[int, typer.Option("--n", help="Generated (and at most real) images.", min=2)] = 5000,
    extractor: Annotated[str, typer.Option("--extractor", help="digits, inception, or auto.")] = "auto",
    weights: Annotated[str | None, typer.Option("--weights", help="Weights file for the extractor.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Noise seed for the generated images.")] = 0,
    no_ema: Annotated[bool, typer.Option("--no-ema", help="Use the raw generator, not its EMA.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: metrics and protocol.")] = False,
    device: Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N.")] = "auto",
) -> None:
    """Measure generated images: FID, KID, IS, precision/recall, each reported with its protocol."""
    import json

    from ganforge.metrics.evaluate import evaluate_images, format_report, load_target_images, parse_metrics
    from ganforge.metrics.extractors import build_extractor, default_extractor_name
    from ganforge.runs import resolve_device

    names = parse_metrics(metrics)
    dev = resolve_device(device)
    images, source, run_data = load_target_images(target, n, seed, ema=not no_ema, device=dev)
    reference = against or run_data or "digits"
    name = default_extractor_name(tuple(images.shape[1:])) if extractor == "auto" else extractor
    results = evaluate_images(images, reference, build_extractor(name, weights), names, n, source, dev)
    typer.echo(json.dumps(results) if as_json else format_report(results))


@app.command("list")
def list_() -> None:
    """Presets, data sets, models, losses, metrics and feature extractors that ganforge knows."""
    from ganforge.config import preset_descriptions
    from ganforge.data import DATASET_DESCRIPTIONS
    from ganforge.losses import LOSS_DESCRIPTIONS
    from ganforge.metrics.evaluate import METRIC_DESCRIPTIONS
    from ganforge.metrics.extractors import EXTRACTOR_DESCRIPTIONS
    from ganforge.nets import MODEL_DESCRIPTIONS

    sections = {
        "presets (ganforge train PRESET)": preset_descriptions(),
        "data sets (--data)": DATASET_DESCRIPTIONS,
        "models (model.arch)": MODEL_DESCRIPTIONS,
        "losses (loss.name)": LOSS_DESCRIPTIONS,
        "metrics (ganforge eval --metrics)": METRIC_DESCRIPTIONS,
        "feature extractors (ganforge eval --extractor)": EXTRACTOR_DESCRIPTIONS,
    }
    for title, table in sections.items():
        typer.echo(title)
        width = max(len(name) for name in table)
        for name, text in table.items():
            typer.echo(f"  {name.ljust(width)}  {text}")
        typer.echo("")


def _launch_torchrun(nproc: int) -> None:
    """Run this very ``ganforge train`` command (without --nproc) under torchrun with ``nproc`` processes."""
    import subprocess

    from ganforge.training.distributed import current_world

    if current_world().distributed:
        raise GanforgeError("--nproc is for a plain `ganforge train`; under torchrun set --nproc_per_node instead")
    args, skip = [], False
    for arg in sys.argv[1:]:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            args.append(arg)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "ganforge", *args]
    raise typer.Exit(subprocess.run(command).returncode)


def _done(run_dir: Path) -> None:
    from ganforge.training.distributed import current_world

    if not current_world().is_main:
        return
    typer.echo(f"run folder: {run_dir}  (samples/latest.png, losses.png, metrics.jsonl, checkpoints/last.pt)")


def main() -> None:
    """Entry point: user errors print one line and exit 2, never a traceback."""
    try:
        app()
    except GanforgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(130 if type(exc).__name__ == "TrainingInterrupted" else 2)
    except SystemExit as exc:
        if exc.code == 130:  # typer turns KeyboardInterrupt into a silent exit 130
            typer.echo("interrupted", err=True)
        raise
