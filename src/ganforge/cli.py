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
    rich_markup_mode=None,  # plain click messages: a bad option is 3 short lines, not a framed box
    context_settings={"help_option_names": ["-h", "--help"]},
)

SEED_MAX = 2**63 - 1  # torch seeds are 64-bit
StepsOption = Annotated[int | None, typer.Option("--steps", help="Total generator steps.", min=1)]


@app.command()
def train(
    preset: Annotated[str, typer.Argument(help="Preset name (see `ganforge list`).")] = "default",
    data: Annotated[str | None, typer.Option("--data", help="Data set name or folder:PATH.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML config file (over the preset).")] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Override KEY=VALUE, e.g. optim.g_lr=1e-4.")] = None,
    steps: StepsOption = None,
    minutes: Annotated[float | None, typer.Option("--minutes", help="Train for this wall-clock budget instead of "
                                                  "a step count (the steps done are recorded).", min=0.01)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Run folder (default runs/PRESET-TIME).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed: same seed, same run.", min=0,
                                             max=SEED_MAX)] = None,
    device: Annotated[str | None, typer.Option("--device", help="auto, cpu, cuda, cuda:N.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    nproc: Annotated[int, typer.Option("--nproc", help="Processes (DDP): launches torchrun with K processes.",
                                       min=1)] = 1,
    compile_: Annotated[bool, typer.Option("--compile", help="torch.compile G and D (pays on CUDA).")] = False,
) -> None:
    """Train a GAN; with no arguments, the default model on the embedded digits (4.5 minutes of training on 2 cores)."""
    from ganforge.families import load_config
    from ganforge.runs import train as train_run

    if nproc > 1:
        _launch_torchrun(nproc)

    options: dict = {}
    if data is not None:
        options.setdefault("data", {})["name"] = data
    for key, value in (("steps", steps), ("minutes", minutes), ("seed", seed), ("device", device),
                       ("compile", compile_ or None)):
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


CheckpointOption = Annotated[str, typer.Option(
    "--checkpoint", help="auto (best.pt when the run kept one, else last.pt), last, or best (kept when the run "
    "evaluated during training).")]
DeviceOption = Annotated[str, typer.Option("--device", help="auto, cpu, cuda, cuda:N.")]
NoEmaOption = Annotated[bool, typer.Option("--no-ema", help="Use the raw generator, not its EMA.")]


@app.command()
def sample(
    run_dir: Annotated[Path, typer.Argument(help="Run folder to sample from.")],
    n: Annotated[int, typer.Option("--n", help="Number of samples.", min=1, max=100_000)] = 64,
    out: Annotated[Path, typer.Option("--out", help="Output file by its suffix (.png, .csv, .mid, .wav, .txt, "
                                      ".gif, .mp4, ...; see the run's family), or a folder.")] = Path("samples.png"),
    seed: Annotated[int, typer.Option("--seed", help="Noise seed: same seed, same samples.", min=0, max=SEED_MAX)] = 0,
    no_ema: NoEmaOption = False,
    class_index: Annotated[
        int | None, typer.Option("--class", help="Class to draw (conditional runs); default: all classes in turn.")
    ] = None,
    prompt: Annotated[str | None, typer.Option("--prompt", help="Text prompt (text and text-to-image runs).")] = None,
    prompt_file: Annotated[Path | None, typer.Option("--prompt-file", help="One prompt per line.")] = None,
    input_: Annotated[Path | None, typer.Option("--input", help="Input file or folder (translation, vocoder).")] = None,
    direction: Annotated[str | None, typer.Option("--direction", help="AtoB or BtoA (translation).")] = None,
    where: Annotated[list[str] | None, typer.Option("--where", help="COLUMN=VALUE condition (tables).")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", help="Sampling temperature (text).")] = None,
    checkpoint: CheckpointOption = "auto",
    device: DeviceOption = "cpu",
) -> None:
    """Draw samples from a trained run, written by the suffix of --out (the run's family decides the formats)."""
    from ganforge.families.base import SampleRequest

    request = SampleRequest(
        n=n, seed=seed, class_index=class_index, prompt=prompt, prompts=_read_prompts(prompt_file),
        input=input_, direction=direction, where=_parse_where(where or []), temperature=temperature,
    )
    _sample_to(run_dir, request, out, not no_ema, checkpoint, device)


@app.command()
def translate(
    run_dir: Annotated[Path, typer.Argument(help="An image-to-image run folder.")],
    input_: Annotated[Path, typer.Option("--input", help="An image file or a folder of images (any size).")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the translated PNGs.")] = Path("translated"),
    direction: Annotated[str, typer.Option("--direction", help="AtoB, or BtoA (two-way runs).")] = "AtoB",
    device: DeviceOption = "cpu",
) -> None:
    """Translate your own images with a trained image-to-image run; each keeps its own size."""
    from ganforge.families.base import SampleRequest

    _sample_to(run_dir, SampleRequest(input=input_, direction=direction), out, True, "last", device)


@app.command()
def vocode(
    run_dir: Annotated[Path, typer.Argument(help="A vocoder run folder.")],
    input_: Annotated[Path, typer.Option("--input", help="A WAV file or a folder of WAVs.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for the resynthesized WAVs.")] = Path("vocoded"),
    device: DeviceOption = "cpu",
) -> None:
    """Copy synthesis: WAV -> mel spectrogram -> the run's vocoder -> WAV, for each input file."""
    from ganforge.families.base import SampleRequest

    _sample_to(run_dir, SampleRequest(input=input_), out, True, "last", device)


def _sample_to(run_dir: Path, request: object, out: Path, ema: bool, checkpoint: str, device: str) -> None:
    from ganforge.runs import load_run

    loaded = load_run(run_dir, device, ema, checkpoint)
    loaded.family.check_conditions(request)
    loaded.family.check_suffix(out)
    samples = loaded.family.sample(loaded.model, request)
    typer.echo(loaded.family.write(samples, out))
    typer.echo(f"(from {loaded.checkpoint}, step {loaded.step})", err=True)


def _read_prompts(path: Path | None) -> tuple[str, ...] | None:
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GanforgeError(f"prompt file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise GanforgeError(f"prompt file {path} is not UTF-8 text (byte {exc.start})") from None
    prompts = tuple(line.strip() for line in text.splitlines() if line.strip())
    if not prompts:
        raise GanforgeError(f"prompt file {path} holds no prompts (one per line)")
    return prompts


def _parse_where(pairs: list[str]) -> tuple[tuple[str, str], ...]:
    parsed = []
    for pair in pairs:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip():
            raise GanforgeError(f"--where expects COLUMN=VALUE, got '{pair}'")
        parsed.append((column.strip(), value))
    return tuple(parsed)


@app.command()
def augment(
    run_dir: Annotated[Path, typer.Argument(help="A conditional run folder.")],
    per_class: Annotated[int, typer.Option("--per-class", help="Images per class.", min=1, max=100_000)] = 500,
    out: Annotated[Path, typer.Option("--out", help="New folder for the data set.")] = Path("synthetic"),
    seed: Annotated[int, typer.Option("--seed", help="Noise seed: same seed, same images.", min=0, max=SEED_MAX)] = 0,
    no_ema: NoEmaOption = False,
    device: DeviceOption = "cpu",
) -> None:
    """Write a labeled synthetic data set (one folder per class, as ImageFolder reads) with a manifest."""
    from ganforge.devices import resolve_device
    from ganforge.families.images.augment import export_synthetic_dataset

    manifest = export_synthetic_dataset(run_dir, out, per_class, seed, not no_ema, str(resolve_device(device)))
    typer.echo(f"wrote {manifest['total']} images in {len(manifest['counts'])} class folders to {out}/ "
               "(manifest.json)")


@app.command()
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    fmt: Annotated[str, typer.Option("--format", help="safetensors, onnx or torchscript (image runs).")] = (
        "safetensors"),
    out: Annotated[Path, typer.Option("--out", help="Output file, e.g. model.safetensors.")] = Path(
        "model.safetensors"
    ),
    no_ema: NoEmaOption = False,
    checkpoint: CheckpointOption = "auto",
) -> None:
    """Export a run's generator in a format its family supports (image runs: safetensors + JSON, ONNX, TorchScript)."""
    from ganforge.runs import load_run

    loaded = load_run(run_dir, "cpu", not no_ema, checkpoint)
    family = loaded.family
    if fmt not in family.export_formats:
        shown = ", ".join(family.export_formats) or "none yet"
        raise GanforgeError(f"unknown export format '{fmt}' for {family.name} runs: use {shown}")
    summary = family.export(loaded.model, fmt, out)
    parity = summary.get("max_abs_diff")
    checker = "Keras" if fmt == "keras" else "onnxruntime"
    extra = f"; reloaded by {checker}: max abs difference {parity:.2e}" if parity is not None else ""
    config = f" and {summary['config']}" if "config" in summary else ""
    typer.echo(f"wrote {out}{config}{extra} (from {loaded.checkpoint}, step {loaded.step})")


@app.command()
def serve(
    runs: Annotated[list[Path], typer.Argument(help="Run folders to serve (any family).")],
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
    checkpoint: CheckpointOption = "auto",
    allow_host: Annotated[list[str] | None, typer.Option("--allow-host", help="Also answer requests for this "
                                                          "Host name (loopback names always).")] = None,
) -> None:
    """Serve runs over HTTP: each family's routes (OpenAPI at /openapi.json) and a web page at /."""
    import socket

    try:
        import uvicorn

        from ganforge.serve.app import create_app, load_served_models
    except ImportError:
        raise GanforgeError("serving needs FastAPI and uvicorn: pip install 'ganforge[serve]'") from None
    models = load_served_models(runs, checkpoint)
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise GanforgeError(f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port") from None
    hosts = [*(allow_host or []), host]
    typer.echo(f"serving {', '.join(models)} on http://{host}:{port}/  (Ctrl-C stops)")
    uvicorn.run(create_app(models, hosts), host=host, port=port, log_level="warning", timeout_keep_alive=5)


@app.command("eval")
def eval_(
    target: Annotated[Path, typer.Argument(help="A run folder, or a folder of images.")],
    against: Annotated[str | None, typer.Option("--against", help="Reference data (default: the run's).")] = None,
    metrics: Annotated[str | None, typer.Option("--metrics", help="Comma list of metrics (see `ganforge list`); "
                                                "default: the family's.")] = None,
    n: Annotated[int | None, typer.Option("--n", help="Generated samples (default: the family's).", min=2)] = None,
    extractor: Annotated[str, typer.Option("--extractor",
                                           help="Images: digits, fashion, inception, or auto.")] = "auto",
    weights: Annotated[str | None, typer.Option("--weights", help="Weights file for the extractor.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Noise seed for the generated samples.", min=0, max=SEED_MAX)] = 0,
    no_ema: NoEmaOption = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: metrics and protocol.")] = False,
    checkpoint: CheckpointOption = "auto",
    device: DeviceOption = "auto",
) -> None:
    """Measure a run with its family's metrics, each reported with its protocol."""
    import json

    from ganforge.devices import resolve_device
    from ganforge.families.base import EvalRequest
    from ganforge.run_folder import RunFolder
    from ganforge.runs import load_run

    request = EvalRequest(n, seed, against, metrics, extractor, weights, resolve_device(device))
    if RunFolder(target).config.is_file():
        loaded = load_run(target, request.device, not no_ema, checkpoint)
        family = loaded.family
        results = family.evaluate(RunFolder(target), loaded.model, request)
        results.setdefault("protocol", {})["checkpoint"] = f"{loaded.checkpoint.name} (step {loaded.step})"
        typer.echo(f"(from {loaded.checkpoint}, step {loaded.step})", err=True)
    else:  # a folder of images
        from ganforge.families import get_family
        from ganforge.families.images.evaluation import evaluate_folder

        family = get_family("images")
        results = evaluate_folder(target, request, n or family.default_eval_n)
    typer.echo(json.dumps(results) if as_json else family.report(results))


@app.command()
def doctor(
    run_dir: Annotated[Path, typer.Argument(help="A run folder (any family; sample checks for image runs).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object: diagnoses and checks.")] = False,
    checkpoint: CheckpointOption = "last",
    n: Annotated[int, typer.Option("--n", help="Samples for the sample checks (image runs).", min=16,
                                   max=10_000)] = 256,
) -> None:
    """Explain a failing run in plain words: each problem seen, with the fix to try and its config key.
    Exits 0 when it finds no problem, 1 when it finds one."""
    import json

    from ganforge.doctor import examine

    report = examine(run_dir, checkpoint, n)
    typer.echo(json.dumps(report.to_dict()) if as_json else report.text())
    raise typer.Exit(0 if report.healthy else 1)


@app.command("list")
def list_() -> None:
    """Presets, families, data sets, models, losses and metrics that ganforge knows."""
    from ganforge.config import preset_descriptions
    from ganforge.families import all_families
    from ganforge.losses import LOSS_DESCRIPTIONS
    from ganforge.metrics.extractors import EXTRACTOR_DESCRIPTIONS

    families = all_families()
    sections = {
        "presets (ganforge train PRESET)": preset_descriptions(),
        "families (family:)": {f.name: f.description for f in families},
        "data sets (--data)": {k: v for f in families for k, v in f.data_kinds().items()},
        "models (model.arch)": {k: v for f in families for k, v in f.model_kinds().items()},
        "losses (loss.name)": LOSS_DESCRIPTIONS,
        "metrics (ganforge eval --metrics)": {k: v for f in families for k, v in f.metric_kinds().items()},
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

    from ganforge.parallel import current_world

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
    from ganforge.parallel import current_world

    if not current_world().is_main:
        return
    typer.echo(f"run folder: {run_dir}  (samples/latest.*, losses.png, metrics.jsonl, checkpoints/last.pt)")


def main() -> None:
    """Entry point: user errors (bad input, files that cannot be written) print one line and exit 2, never a
    traceback (a bad option prints click's usage line, its hint and the error); an interrupted run exits 130."""
    try:
        app()
    except GanforgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(130 if type(exc).__name__ == "TrainingInterrupted" else 2)
    except OSError as exc:
        typer.echo(f"error: {describe_os_error(exc)}", err=True)
        sys.exit(2)
    except SystemExit as exc:
        if exc.code == 130:  # typer turns KeyboardInterrupt into a silent exit 130
            typer.echo("interrupted", err=True)
        raise


def describe_os_error(exc: OSError) -> str:
    """An operating-system error as one line: the path, the cause, and what to do."""
    import errno

    path = exc.filename or "a file"
    cause = exc.strerror or str(exc)
    fixes = {
        errno.ENOSPC: "free some disk space or choose --out on another disk",
        errno.EACCES: "choose a folder you can write to",
        errno.EROFS: "the disk is read-only: choose --out on a writable one",
        errno.ENOTDIR: "a part of the path is a file, not a folder: choose another --out",
        errno.EEXIST: "it exists already: choose another --out",
        errno.ENOENT: "check that the path exists",
    }
    return f"{path}: {cause}; {fixes.get(exc.errno, 'check the path and the disk')}"
