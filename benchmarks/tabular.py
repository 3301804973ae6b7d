"""Synthetic tables: ganforge's tabular-ctgan vs the ctgan package vs a Gaussian copula, on offline tables.

    python benchmarks/tabular.py --tables fair anes96 --seeds 0 1 2 --epochs 300 \
        --ctgan-python /tmp/ctgan_venv/bin/python --equal-time --out /tmp/tabular.json
    python benchmarks/tabular.py --transform-only            # preprocessing speed, 100k rows x 20 columns

Every (method, table, seed) is fitted in its own process (one torch thread) so that its fit time and peak
memory (max RSS) are its own; all methods of a seed get the same training rows and are scored on the same
held-out rows with the metrics of `ganforge eval` (column shapes, pair trends, ML efficacy, DCR).
Equal epochs: the critic reads as many batches as ctgan's (ganforge steps = epochs x max(training rows //
batch size, 1) // optim.n_critic). ``ganforge@preset``: the preset as shipped (its own train.steps).
Equal time: ganforge again, its steps scaled to take ctgan's measured fit CPU time (``--equal-time``; CPU
seconds of the one-thread process, since wall time on a shared machine depends on the neighbours).
ganforge's child gets the table's ML-efficacy target as ``eval.target`` (used only if the preset turns on
the auxiliary classifier, ``loss.target_weight``; off in ``tabular-ctgan``).

The ctgan package (BUSL-1.1) is never a ganforge dependency: install it in a separate environment, e.g.
``python -m venv --system-site-packages /tmp/ctgan_venv && /tmp/ctgan_venv/bin/pip install ctgan``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BATCH = 500


def child(args: argparse.Namespace) -> None:
    """Fit one method on a training CSV, write ``n`` synthetic rows, print fit time and peak memory."""
    import torch

    torch.set_num_threads(1)
    if args.method == "ctgan":
        import pandas as pd
        from ctgan import CTGAN

        started, cpu0 = time.perf_counter(), time.process_time()  # after the imports, for every method
        frame = pd.read_csv(args.train_csv, dtype=str, keep_default_na=False)
        discrete = [c for c in args.discrete.split(",") if c]
        for name in frame.columns:
            if name not in discrete:
                frame[name] = pd.to_numeric(frame[name].replace("", None), errors="coerce")
        model = CTGAN(epochs=args.epochs, batch_size=BATCH, pac=10, enable_gpu=False, verbose=False)
        model.set_random_state(args.seed)
        model.fit(frame, discrete_columns=discrete)
        fit, fit_cpu = time.perf_counter() - started, time.process_time() - cpu0
        rows = model.sample(args.n)
    else:
        from ganforge.families.tabular.io import read_table

        if args.method == "copula":
            from ganforge.families.tabular.copula import GaussianCopula
            from ganforge.families.tabular.schema import infer_schema

            started, cpu0 = time.perf_counter(), time.process_time()
            train = read_table(args.train_csv)
            model = GaussianCopula(infer_schema(train)).fit(train, args.seed)
            fit, fit_cpu = time.perf_counter() - started, time.process_time() - cpu0
            rows = model.sample(args.n, args.seed)
        else:
            from ganforge.families import load_config
            from ganforge.families.base import SampleRequest
            from ganforge.runs import load_run, train

            overrides = [f"data.name=table:{args.train_csv}", f"train.seed={args.seed}", "data.holdout=0",
                         f"train.steps={args.steps}", "train.device=cpu", "train.checkpoint_every=100000",
                         *([f"eval.target={args.target}"] if args.target else [])]
            started, cpu0 = time.perf_counter(), time.process_time()
            with tempfile.TemporaryDirectory() as folder:
                train(load_config("tabular-ctgan", overrides=overrides), Path(folder) / "run", progress=False)
                fit, fit_cpu = time.perf_counter() - started, time.process_time() - cpu0
                loaded = load_run(Path(folder) / "run")
                rows = loaded.family.sample(loaded.model, SampleRequest(n=args.n, seed=args.seed))
    rows.to_csv(args.out_csv, index=False)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"fit_seconds": fit, "fit_cpu_seconds": fit_cpu, "peak_rss_mb": peak_mb}))


def run_child(python: str, method: str, train_csv: Path, out_csv: Path, n: int, seed: int, steps: int,
              epochs: int, discrete: list[str], target: str | None) -> dict:
    command = [python, __file__, "child", method, "--train-csv", str(train_csv), "--out-csv", str(out_csv),
               "--n", str(n), "--seed", str(seed), "--steps", str(steps), "--epochs", str(epochs),
               "--discrete", ",".join(discrete), "--target", target or ""]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{method} failed: {done.stderr[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def score(synth_csv: Path, data, seed: int) -> dict:
    from ganforge.families.tabular.efficacy import ml_efficacy
    from ganforge.families.tabular.io import read_table
    from ganforge.families.tabular.metrics import privacy_report, quality_report

    synth = read_table(synth_csv)
    quality = quality_report(data.holdout, synth, data.schema)
    efficacy = ml_efficacy(synth, data.train, data.holdout, data.schema, data.target, seed)
    privacy = privacy_report(synth, data.holdout, data.train, data.schema)
    return {"column_shapes": quality["column_shapes"], "column_pair_trends": quality["column_pair_trends"],
            "ml_synthetic": efficacy["synthetic"], "ml_real": efficacy["real"], "ml_gap": efficacy["gap"],
            "ml_score": efficacy["score"], "ml_target": efficacy["target"],
            "accuracy_gap": efficacy.get("accuracy_gap"),
            "dcr_synthetic": privacy["dcr_synthetic_median"], "dcr_holdout": privacy["dcr_holdout_median"],
            "copies": privacy["synthetic_copies_of_training_rows"],
            "holdout_copies": privacy["holdout_copies_of_training_rows"]}


def compare(args: argparse.Namespace) -> None:
    from ganforge.families import load_config
    from ganforge.families.tabular.data import build_tabular_data
    from ganforge.families.tabular.io import write_csv

    results = json.loads(Path(args.out).read_text()) if args.out and Path(args.out).is_file() else []
    done = {(r["table"], r["seed"], r["method"]) for r in results}
    work = Path(args.work)
    for table in args.tables:
        for seed in args.seeds:
            config = load_config("tabular-ctgan", overrides=[f"data.name={table}", f"train.seed={seed}"])
            data = build_tabular_data(config, quiet=True)
            folder = work / f"{table}-{seed}"
            folder.mkdir(parents=True, exist_ok=True)
            train_csv = folder / "train.csv"
            write_csv(data.train, train_csv)
            n = len(data.train)
            # equal epochs = equal batches read by the critic: ganforge's reads optim.n_critic per step,
            # ctgan's one per step (its discriminator_steps=1)
            steps = args.epochs * max(n // BATCH, 1) // config.optim.n_critic
            discrete = [c.name for c in data.schema.modelled if c.discrete]
            plan = [(m, config.train.steps if m == "ganforge@preset" else steps) for m in args.methods]
            for method, method_steps in plan + ([("ganforge@ctgan-time", 0)] if args.equal_time else []):
                if (table, seed, method) in done:
                    continue
                if method == "ganforge@ctgan-time":
                    timed = {r["method"]: r for r in results if r["table"] == table and r["seed"] == seed}
                    if "ctgan" not in timed or "ganforge" not in timed:
                        continue
                    # CPU seconds: on a shared machine wall time depends on the neighbours
                    per_step = timed["ganforge"]["fit_cpu_seconds"] / timed["ganforge"]["steps"]
                    method_steps = max(1, round(timed["ctgan"]["fit_cpu_seconds"] / per_step))
                python = args.ctgan_python if method == "ctgan" else sys.executable
                kind = method.split("@")[0]
                out_csv = folder / f"{method}.csv"
                print(f"{table} seed {seed}: {method} ({method_steps} steps / {args.epochs} epochs)...", flush=True)
                timing = run_child(python, kind, train_csv, out_csv, n, seed, method_steps, args.epochs, discrete,
                                   data.target)
                row = {"table": table, "seed": seed, "method": method, "steps": method_steps, "epochs": args.epochs,
                       **timing, **score(out_csv, data, seed)}
                results.append(row)
                print(json.dumps(row), flush=True)
                if args.out:
                    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(markdown(results))


def markdown(results: list[dict]) -> str:
    """Mean (and spread) over seeds per table and method."""
    import numpy as np

    keys = [("column_shapes", "shapes", 3), ("column_pair_trends", "pair trends", 3), ("ml_gap", "ML gap (pts)", 1),
            ("ml_synthetic", "ML synth", 1), ("ml_real", "ML real", 1), ("dcr_synthetic", "DCR synth", 3),
            ("dcr_holdout", "DCR held-out", 3), ("copies", "copies", 0), ("fit_seconds", "fit s", 0),
            ("fit_cpu_seconds", "fit CPU s", 0),
            ("peak_rss_mb", "peak MB", 0)]
    lines = ["| table | method | seeds | " + " | ".join(k[1] for k in keys) + " |",
             "|" + "---|" * (3 + len(keys))]
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in results:
        groups.setdefault((r["table"], r["method"]), []).append(r)
    for (table, method), rows in groups.items():
        cells = []
        for key, _, digits in keys:
            values = np.array([r[key] for r in rows], dtype=float)
            spread = f" ± {values.std():.{digits}f}" if len(values) > 1 and key not in ("peak_rss_mb",) else ""
            cells.append(f"{values.mean():.{digits}f}{spread}")
        lines.append(f"| {table} | {method} | {len(rows)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def transform_speed(args: argparse.Namespace) -> None:
    """Fit time of the data transform on ``rows`` x 20 columns (10 numeric mixtures, 10 categorical)."""
    import numpy as np
    import pandas as pd
    import torch

    from ganforge.families.tabular.schema import infer_schema
    from ganforge.families.tabular.transform import fit_transform

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    rows, data = args.rows, {}
    for j in range(10):
        centres = rng.normal(0, 10, 3)
        values = centres[rng.integers(0, 3, rows)] + rng.normal(0, 1, rows)
        text = np.char.mod("%.3f", values).astype(object)
        text[rng.random(rows) < 0.05] = ""
        data[f"x{j}"] = text
        data[f"c{j}"] = np.char.add("level", rng.integers(0, 5 + 10 * j, rows).astype(str))
    frame = pd.DataFrame(data)
    started, cpu0 = time.perf_counter(), time.process_time()
    schema = infer_schema(frame)
    inferred = time.perf_counter()
    transform = fit_transform(frame, schema)
    fitted = time.perf_counter()
    transform.encode(frame)
    encoded = time.perf_counter()
    print(json.dumps({"rows": rows, "columns": 20, "threads": args.threads, "infer_s": inferred - started,
                      "fit_s": fitted - inferred, "encode_s": encoded - fitted, "total_s": encoded - started,
                      "total_cpu_s": time.process_time() - cpu0}))
    if args.ctgan_python:
        frame.to_csv(Path(args.work) / "wide.csv", index=False)
        code = ("import time,sys,torch,pandas as pd; torch.set_num_threads(1)\n"
                "from ctgan.data_transformer import DataTransformer\n"
                f"f=pd.read_csv(r'{Path(args.work) / 'wide.csv'}')\n"
                "t,c0=time.perf_counter(),time.process_time()\n"
                "d=DataTransformer(); d.fit(f,[c for c in f.columns if c.startswith('c')]); d.transform(f)\n"
                "print('ctgan DataTransformer fit+transform: wall s', time.perf_counter()-t,\n"
                "      'cpu s', time.process_time()-c0)")
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        try:
            out = subprocess.run([args.ctgan_python, "-c", code], capture_output=True, text=True, env=env,
                                 timeout=args.ctgan_timeout)
            print(out.stdout.strip() or out.stderr[-400:])
        except subprocess.TimeoutExpired:
            print(f"ctgan DataTransformer.fit: still running after {args.ctgan_timeout} s (stopped)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        parser.add_argument("child")
        parser.add_argument("method", choices=["ganforge", "ctgan", "copula"])
        for name in ("--train-csv", "--out-csv", "--discrete", "--target"):
            parser.add_argument(name, default="")
        for name in ("--n", "--seed", "--steps", "--epochs"):
            parser.add_argument(name, type=int, default=0)
        child(parser.parse_args())
        return
    parser.add_argument("--tables", nargs="+", default=["fair", "anes96"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--methods", nargs="+", default=["ganforge", "ctgan", "copula", "ganforge@preset"],
                        help="ganforge@preset: the preset's own train.steps")
    parser.add_argument("--equal-time", action="store_true", help="also ganforge at ctgan's fit time")
    parser.add_argument("--ctgan-python", default=os.environ.get("CTGAN_PYTHON", ""))
    parser.add_argument("--out", default="")
    parser.add_argument("--work", default=tempfile.gettempdir() + "/ganforge-tabular-bench")
    parser.add_argument("--transform-only", action="store_true")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ctgan-timeout", type=int, default=300)
    parser.add_argument("--table-only", action="store_true", help="print the markdown table of --out")
    args = parser.parse_args()
    Path(args.work).mkdir(parents=True, exist_ok=True)
    if args.table_only:
        print(markdown(json.loads(Path(args.out).read_text())))
    elif args.transform_only:
        transform_speed(args)
    else:
        if "ctgan" in args.methods and not args.ctgan_python:
            args.methods = [m for m in args.methods if m != "ctgan"]
            print("no --ctgan-python: skipping the ctgan package", flush=True)
        compare(args)


if __name__ == "__main__":
    main()
