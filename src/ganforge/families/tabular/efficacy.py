"""Machine-learning efficacy: a model trained on synthetic rows vs the same model trained on real rows,
both tested on held-out real rows.

The model is scikit-learn's HistGradientBoosting (classifier for a categorical target, regressor for a
numeric one) with native categorical features and missing values, fixed settings and ``random_state``.
Scores in points (x100): macro F1 for classification, R^2 for regression.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganforge.errors import GanforgeError
from ganforge.families.tabular.schema import TableSchema
from ganforge.families.tabular.transform import numeric_values

MAX_ITER = 100


def _features(frame: Any, schema: TableSchema, target: str) -> tuple[np.ndarray, list[bool]]:
    columns, categorical = [], []
    for col in schema.modelled:
        if col.name == target:
            continue
        cells = frame[col.name].astype(str)
        if col.numeric:
            values, missing = numeric_values(cells, col)
            columns.append(np.where(missing, np.nan, values))
            categorical.append(False)
        else:
            lookup = {level: i for i, level in enumerate(col.categories)}
            columns.append(np.array([lookup.get(v, np.nan) for v in cells.str.strip()], dtype=np.float64))
            categorical.append(len(col.categories) <= 255)
    if not columns:
        return np.zeros((len(frame), 1)), [False]
    return np.stack(columns, 1), categorical


def _labels(frame: Any, schema: TableSchema, target: str) -> np.ndarray:
    col = schema.column(target)
    cells = frame[target].astype(str)
    if col.numeric:
        values, missing = numeric_values(cells, col)
        return np.where(missing, np.nan, values)
    return cells.str.strip().to_numpy().astype(str)


def _score(train: Any, test: Any, schema: TableSchema, target: str, seed: int) -> tuple[float, float | None]:
    """(macro F1 or R^2, accuracy or None) in points."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, f1_score, r2_score

    x_train, categorical = _features(train, schema, target)
    x_test, _ = _features(test, schema, target)
    y_train, y_test = _labels(train, schema, target), _labels(test, schema, target)
    if schema.column(target).numeric:
        keep_train, keep_test = ~np.isnan(y_train), ~np.isnan(y_test)
        model = HistGradientBoostingRegressor(max_iter=MAX_ITER, categorical_features=categorical, random_state=seed)
        model.fit(x_train[keep_train], y_train[keep_train])
        return 100.0 * float(r2_score(y_test[keep_test], model.predict(x_test[keep_test]))), None
    if len(np.unique(y_train)) < 2:
        predicted = np.full(len(y_test), y_train[0] if len(y_train) else "")
    else:
        model = HistGradientBoostingClassifier(max_iter=MAX_ITER, categorical_features=categorical, random_state=seed)
        model.fit(x_train, y_train)
        predicted = model.predict(x_test)
    return (100.0 * float(f1_score(y_test, predicted, average="macro")),
            100.0 * float(accuracy_score(y_test, predicted)))


def ml_efficacy(synth: Any, train: Any, test: Any, schema: TableSchema, target: str | None,
                seed: int = 0) -> dict[str, Any]:
    """Train-on-synthetic and train-on-real scores on ``test``, and their gap (real - synthetic)."""
    if target is None:
        raise GanforgeError("ML efficacy needs a target column: set eval.target=COLUMN (--set eval.target=...)")
    if schema.column(target).kind not in ("continuous", "integer", "datetime", "categorical", "boolean"):
        raise GanforgeError(f"eval.target '{target}' is not modelled ({schema.column(target).kind}); pick another")
    score = "r2" if schema.column(target).numeric else "macro_f1"
    on_synth, acc_synth = _score(synth, test, schema, target, seed)
    on_real, acc_real = _score(train, test, schema, target, seed)
    result = {"target": target, "score": score, "synthetic": on_synth, "real": on_real, "gap": on_real - on_synth,
              "model": f"sklearn HistGradientBoosting(max_iter={MAX_ITER}, random_state={seed})"}
    if acc_synth is not None and acc_real is not None:
        result.update(accuracy_synthetic=acc_synth, accuracy_real=acc_real, accuracy_gap=acc_real - acc_synth)
    return result
