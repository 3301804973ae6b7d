"""``ganforge eval`` for text runs: quality and diversity over a temperature sweep, with the protocol.

- oracle data: quality = oracle NLL of the samples (lower is better; the oracle's own samples score its
  entropy); coverage = the generator's NLL of held-out oracle sequences at that temperature ("NLL_test").
- real text: quality = BLEU-2..4 of the samples against held-out references; diversity = Self-BLEU-4
  (lower is more diverse); coverage = NLL of held-out lines at that temperature.

Reference rows score real data the same way (held-out oracle / training lines in place of samples), so a
number can be read against what real data gets.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import torch

from ganforge.errors import GanforgeError
from ganforge.families.text.bleu import bleu, self_bleu
from ganforge.families.text.data import TextData, build_text_data
from ganforge.families.text.model import TextModel, check_temperature
from ganforge.families.text.oracle import oracle_nll
from ganforge.families.text.sampling import draw, nll
from ganforge.version import __version__

METRICS = {
    "oracle_nll": "text (oracle data): oracle NLL of samples, nats/token (quality; lower is better)",
    "nll_test": "text: the generator's NLL of held-out data at the temperature, nats/token (lower is better)",
    "bleu": "text (real data): BLEU-2..4 of samples against held-out lines (quality; higher is better)",
    "self_bleu": "text (real data): Self-BLEU-4 of samples (diversity; lower is more diverse)",
}


def reference_data(model: TextModel) -> TextData:
    """The run's data rebuilt from its config, checked to have the run's vocabulary."""
    data = build_text_data(model.config.data)
    if data.vocab.words != model.vocab.words:
        raise GanforgeError(f"the data {model.config.data.name} no longer gives the run's vocabulary (was the "
                            "file changed?); evaluate against the data the run was trained on")
    return data


def _words(model: TextModel, rows: torch.Tensor) -> list[list[str]]:
    return [model.vocab.decode(r) for r in rows.tolist()]


def score_rows(model: TextModel, data: TextData, rows: torch.Tensor, refs: list[list[str]],
               self_bleu_n: int) -> dict[str, float]:
    """Quality and diversity of rows of ids (samples or real data), per the data kind."""
    if data.oracle is not None:
        return {"oracle_nll": oracle_nll(data.oracle, rows)}
    words = _words(model, rows)
    scores = {f"bleu{n}": bleu(words, refs, n) for n in (2, 3, 4)}
    scores["self_bleu4"] = self_bleu(words[:self_bleu_n], 4)
    scores["mean_length"] = sum(map(len, words)) / max(len(words), 1)
    return scores


def evaluate_text(model: TextModel, n: int, seed: int, temperatures: list[float] | None, out: Path | None,
                  source: str) -> dict[str, Any]:
    """The temperature sweep of a run, reference rows, and the protocol; writes a CSV and a plot to ``out``."""
    e = model.config.eval
    temps = sorted({check_temperature(t) for t in (temperatures or e.temperatures)} | {1.0})
    data = reference_data(model)
    test = data.test[: e.references]
    refs = _words(model, test)
    sweep = []
    for i, t in enumerate(temps):
        generator = torch.Generator(device=model.generator.banned.device).manual_seed(seed + i)
        rows = draw(model.generator, n, t, generator)[0].cpu()
        row = {"temperature": t, **score_rows(model, data, rows, refs, e.self_bleu_n),
               "nll_test": nll(model.generator, test, t)}
        sweep.append(row)
    real_rows = data.test[: min(n, len(data.test))] if data.oracle is not None else data.train[:n]
    results: dict[str, Any] = {k: v for k, v in next(r for r in sweep if r["temperature"] == 1.0).items()
                               if k != "temperature"}
    results["real_data"] = score_rows(model, data, real_rows, refs, e.self_bleu_n)
    results["temperature_sweep"] = sweep
    if out is not None:
        results["files"] = [str(p) for p in write_sweep(sweep, out, source)]
    results["protocol"] = {
        "data": model.config.data.name, "data_info": {k: v for k, v in data.info.items() if k != "oracle"},
        "oracle": data.info.get("oracle"), "samples_per_temperature": n, "seed": seed,
        "references": len(refs), "reference_split": "held-out test split",
        "bleu": "mean sentence BLEU vs all references, uniform weights, NLTK smoothing method1 (epsilon 0.1)",
        "self_bleu": f"BLEU-4 of each of the first {min(n, e.self_bleu_n)} samples against the others",
        "nll": "nats per token, <eos> included, padding excluded",
        "real_data": "held-out oracle sequences" if data.oracle is not None else f"{len(real_rows)} training lines",
        "method": model.config.gan.method, "source": source, "ganforge": __version__,
    }
    return results


def write_sweep(sweep: list[dict[str, float]], out: Path, title: str) -> list[Path]:
    """``temperature_sweep.csv`` and ``temperature_sweep.png`` (quality against diversity) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    table = out / "temperature_sweep.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(sweep[0]))
        writer.writeheader()
        writer.writerows(sweep)
    return [table, plot_curves({title: sweep}, out / "temperature_sweep.png")]


def plot_curves(curves: dict[str, list[dict[str, float]]], path: Path) -> Path:
    """Quality-diversity curves, one per model: oracle NLL vs NLL_test, or BLEU-4 vs Self-BLEU-4."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=100)
    oracle = "oracle_nll" in next(iter(curves.values()))[0]
    x_key, y_key = ("nll_test", "oracle_nll") if oracle else ("self_bleu4", "bleu4")
    for name, sweep in curves.items():
        xs, ys = [r[x_key] for r in sweep], [r[y_key] for r in sweep]
        ax.plot(xs, ys, marker="o", label=name)
        for r, x, y in zip(sweep, xs, ys, strict=True):
            if math.isfinite(x) and math.isfinite(y):
                ax.annotate(f"T={r['temperature']:g}", (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlabel("NLL_test (lower: covers the data)" if oracle else "Self-BLEU-4 (lower: more diverse)")
    ax.set_ylabel("oracle NLL (lower: better samples)" if oracle else "BLEU-4 (higher: better samples)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def format_report(results: dict[str, Any]) -> str:
    """The sweep as a table, then the reference row and the protocol in one line."""
    sweep = results["temperature_sweep"]
    keys = [k for k in sweep[0] if k != "temperature"]
    lines = [f"{'temperature':>11} " + " ".join(f"{k:>11}" for k in keys)]
    for row in sweep:
        lines.append(f"{row['temperature']:>11g} " + " ".join(f"{row[k]:>11.4f}" for k in keys))
    real = results["real_data"]
    lines.append(f"{'real data':>11} " + " ".join(f"{real[k]:>11.4f}" if k in real else f"{'':>11}" for k in keys))
    p = results["protocol"]
    lines.append(f"protocol: {p['data']}, {p['samples_per_temperature']} samples per temperature (seed {p['seed']}), "
                 f"{p['references']} held-out references; {p['method']} run {p['source']}")
    for path in results.get("files", []):
        lines.append(f"wrote {path}")
    return "\n".join(lines)
