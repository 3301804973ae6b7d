"""``ganforge eval`` on a tabular run: quality, machine-learning efficacy and privacy against real rows.

The reference is the run's held-out rows (never trained on) when ``--against`` is the training table or
not given; another ``--against table:PATH`` is used whole. Synthetic rows: as many as the training rows
(at most ``eval.max_rows``), or ``--n``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest
from ganforge.families.tabular.data import TabularData, build_tabular_data
from ganforge.families.tabular.datasets import load_table
from ganforge.families.tabular.efficacy import ml_efficacy
from ganforge.families.tabular.generate import TabularModel, generate_rows
from ganforge.families.tabular.metrics import privacy_report, quality_report

METRICS = ("shapes", "trends", "efficacy", "privacy")
METRIC_DESCRIPTIONS = {
    "shapes": "tables: column shapes (KS complement for numbers, TV complement for categories), 1 = identical",
    "trends": "tables: column-pair trends (correlation and contingency similarity), 1 = identical",
    "efficacy": "tables: ML efficacy, gradient boosting trained on synthetic vs real rows, tested on held-out rows",
    "privacy": "tables: distance to the closest training record (synthetic vs held-out), copies of training rows",
}


def parse_table_metrics(text: str | None) -> list[str]:
    if not text:
        return list(METRICS)
    names = [m.strip() for m in text.split(",") if m.strip()]
    for name in names:
        if name not in METRICS:
            raise GanforgeError(f"unknown metric '{name}' for tabular runs; choose from {', '.join(METRICS)}")
    return names


def reference_rows(data: TabularData, against: str | None) -> tuple[Any, str]:
    """The real rows to compare with, and how they were chosen."""
    if against is None or against == data.name:
        if len(data.holdout) == 0:
            raise GanforgeError("this run held out no rows (data.holdout=0); pass --against table:PATH with "
                                "other real rows")
        return data.holdout, f"{data.name}: the {len(data.holdout)} held-out rows of the run's split"
    frame = load_table(against).frame
    missing = [c.name for c in data.schema.modelled if c.name not in frame.columns]
    if missing:
        raise GanforgeError(f"{against} lacks the run's column '{missing[0]}'; it must have the training columns")
    frame = frame[data.schema.names] if all(n in frame.columns for n in data.schema.names) else frame
    return frame.reset_index(drop=True), f"{against}: all {len(frame)} rows"


def evaluate_table(model: TabularModel, request: EvalRequest, default_n: int) -> dict[str, Any]:
    """Every requested metric, with its protocol."""
    names = parse_table_metrics(request.metrics)
    data = build_tabular_data(model.config, quiet=True)
    limit = model.config.eval.max_rows
    reference, described = reference_rows(data, request.against)
    reference = _at_most(reference, limit, request.seed)
    train = _at_most(data.train, limit, request.seed)
    n = request.n if request.n is not None else min(len(data.train), limit) or default_n
    synth = generate_rows(model, n, request.seed)
    results: dict[str, Any] = {}
    if "shapes" in names or "trends" in names:
        quality = quality_report(reference, synth, data.schema)
        if "shapes" in names:
            results["column_shapes"] = quality["column_shapes"]
            results["column_shapes_by_column"] = quality["column_shapes_by_column"]
            results["missing_rate_gap_max"] = quality["missing_rate_gap_max"]
        if "trends" in names:
            results["column_pair_trends"] = quality["column_pair_trends"]
    if "efficacy" in names:
        results["ml_efficacy"] = ml_efficacy(synth, train, reference, data.schema, data.target, request.seed)
    if "privacy" in names:
        holdout = reference if request.against in (None, data.name) else data.holdout
        results["privacy"] = privacy_report(synth, _at_most(holdout, limit, request.seed), train, data.schema)
    results["protocol"] = {
        "reference": described,
        "real_training_rows": len(train),
        "reference_rows": len(reference),
        "synthetic_rows": len(synth),
        "seed": request.seed,
        "checkpoint_ema": model.ema,
        "definitions": "SDMetrics definitions re-implemented (docs/tabular.md); numbers binned at real deciles "
                       "for contingency tables; DCR Gower-like (range-scaled L1, mismatch 1, mean over columns)",
    }
    return results


def _at_most(frame: Any, limit: int, seed: int) -> Any:
    if len(frame) <= limit:
        return frame
    rows = np.sort(np.random.default_rng(seed).choice(len(frame), limit, replace=False))
    return frame.iloc[rows].reset_index(drop=True)


def format_table_report(results: dict[str, Any]) -> str:
    lines = []
    for key in ("column_shapes", "column_pair_trends", "missing_rate_gap_max"):
        if results.get(key) is not None:
            lines.append(f"{key:<36} {results[key]:.4f}")
    if "ml_efficacy" in results:
        e = results["ml_efficacy"]
        lines.append(f"{'ml_efficacy ' + e['score'] + ' (' + e['target'] + ')':<36} synthetic {e['synthetic']:.2f}  "
                     f"real {e['real']:.2f}  gap {e['gap']:.2f} points")
        if "accuracy_gap" in e:
            lines.append(f"{'ml_efficacy accuracy':<36} synthetic {e['accuracy_synthetic']:.2f}  "
                         f"real {e['accuracy_real']:.2f}  gap {e['accuracy_gap']:.2f} points")
    if "privacy" in results:
        p = results["privacy"]
        line = f"{'dcr median':<36} synthetic {p['dcr_synthetic_median']:.4f}"
        if "dcr_holdout_median" in p:
            line += f"  held-out real {p['dcr_holdout_median']:.4f}"
        lines.append(line)
        copies = f"{p['synthetic_copies_of_training_rows']} of {p['synthetic_rows']} synthetic"
        if "holdout_copies_of_training_rows" in p:
            copies += f"; {p['holdout_copies_of_training_rows']} of {p['holdout_rows']} held-out real"
        lines.append(f"{'copies of training rows':<36} {copies}")
    protocol = results.get("protocol", {})
    lines.append(f"protocol: reference {protocol.get('reference')}; {protocol.get('synthetic_rows')} synthetic rows "
                 f"(seed {protocol.get('seed')}); {protocol.get('real_training_rows')} training rows")
    return "\n".join(lines)
