"""Tabular family, data side: reading CSVs (and refusing bad ones), type inference, the transform's
round trip, missing values, the mixture fit and the metrics' definitions on hand-made values."""

from __future__ import annotations

import numpy as np
import pytest

from ganforge.errors import GanforgeError
from ganforge.families.tabular.io import read_csv_bytes, read_table
from ganforge.families.tabular.metrics import (
    contingency_similarity,
    correlation_similarity,
    ks_complement,
    tv_complement,
)
from ganforge.families.tabular.mixture import assign_modes, fit_modes, values_from_modes
from ganforge.families.tabular.schema import infer_schema
from ganforge.families.tabular.transform import fit_transform

pytestmark = pytest.mark.usefixtures("single_thread")


def mixed_csv(rows: int = 300, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    lines = ["id,age,income,city,owner,joined,note"]
    for i in range(rows):
        income = "" if rng.random() < 0.1 else f"{rng.normal(30000, 8000):.2f}"
        city = "" if rng.random() < 0.05 else str(rng.choice(["Oslo", "Lima", "Pune"]))
        day = f"2020-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}"
        lines.append(f"{i + 1},{rng.integers(18, 81)},{income},{city},{rng.random() < 0.3},{day},same")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def frame():
    return read_csv_bytes(mixed_csv(), "mixed.csv")


def test_type_inference(frame):
    schema = infer_schema(frame)
    kinds = {c.name: c.kind for c in schema.columns}
    assert kinds == {"id": "id", "age": "integer", "income": "continuous", "city": "categorical",
                     "owner": "boolean", "joined": "datetime", "note": "constant"}
    assert any("ID" in note for note in schema.notes) and any("one value" in note for note in schema.notes)
    income = schema.column("income")
    assert income.decimals == 2 and 0.05 < income.missing_rate < 0.15
    assert schema.column("city").categories[-1] == ""  # missing is a level of its own
    overridden = infer_schema(frame, {"age": "categorical", "note": "drop"})
    assert overridden.column("age").kind == "categorical" and "note" not in overridden.names


def test_few_numeric_levels_are_categorical():
    table = read_csv_bytes(b"rating,x\n" + b"".join(f"{i % 4}.0,{i * 1.5}\n".encode() for i in range(40)), "r.csv")
    schema = infer_schema(table)
    assert schema.column("rating").kind == "categorical" and schema.column("x").kind == "continuous"
    assert infer_schema(table, max_numeric_levels=2).column("rating").kind == "continuous"


def test_round_trip(frame):
    schema = infer_schema(frame)
    transform = fit_transform(frame, schema, seed=0)
    back = transform.decode(transform.encode(frame))
    assert list(back.columns) == list(frame.columns)
    for name in ("city", "owner", "age", "joined", "note"):
        assert (back[name] == frame[name].str.strip()).all(), name
    real = frame["income"].replace("", np.nan).astype(float).to_numpy()
    again = back["income"].replace("", np.nan).astype(float).to_numpy()
    assert np.array_equal(np.isnan(real), np.isnan(again))  # missing cells stay missing, rate exactly
    assert np.nanmax(np.abs(real - again)) < 0.011  # within the 2 written decimals
    assert (back["id"] == [str(i) for i in range(1, len(frame) + 1)]).all()


def test_missing_rate_preserved_in_the_encoding(frame):
    schema = infer_schema(frame)
    transform = fit_transform(frame, schema)
    matrix = transform.encode(frame)
    span = transform.spans[transform.column_spans["income"][1]]
    missing_slot = matrix[:, span.start + span.width - 1]
    assert missing_slot.mean() == pytest.approx((frame["income"] == "").mean())


def test_mixture_finds_spike_and_modes():
    rng = np.random.default_rng(0)
    spike = np.zeros(3000)
    bimodal = np.concatenate([rng.normal(-5, 0.5, 2000), rng.normal(5, 1.0, 2000)])
    spiky, two = fit_modes([np.concatenate([spike, rng.exponential(3, 1000)]), bimodal], seed=0)
    assert abs(spiky.means[0]) < 1e-3 and spiky.weights[0] > 0.6  # the repeated zeros are one mode
    big = [m for m, w in zip(two.means, two.weights, strict=True) if w > 0.1]
    assert any(abs(m + 5) < 0.5 for m in big) and any(abs(m - 5) < 0.5 for m in big)
    mode, alpha = assign_modes(bimodal, two)
    assert np.abs(values_from_modes(mode, alpha, two) - bimodal).max() < 1e-6


@pytest.mark.parametrize(("raw", "words"), [
    (b"", "is empty"),
    (b"a,b,c\n", "no rows"),
    (b"a,b\n1,2\n3,4,5\n", "line 3"),
    (b"name,x\nJos\xe9,1\n", "not UTF-8: byte 0xe9 on line 2"),
    (b"a,a\n1,2\n", "appears twice"),
])
def test_bad_csv_is_one_clear_error(raw, words):
    with pytest.raises(GanforgeError, match=words):
        read_csv_bytes(raw, "bad.csv")


def test_bad_tables_and_overrides(tmp_path):
    with pytest.raises(GanforgeError, match="not found"):
        read_table(tmp_path / "nope.csv")
    levels = read_csv_bytes(b"code,v\n" + b"".join(f"c{i % 1500},{i * 0.5}\n".encode() for i in range(3000)), "x.csv")
    with pytest.raises(GanforgeError, match="1500 distinct values.*data.columns.code=drop"):
        infer_schema(levels)
    assert infer_schema(levels, {"code": "drop"}).names == ["v"]
    with pytest.raises(GanforgeError, match="not a column"):
        infer_schema(levels, {"nope": "categorical"})
    with pytest.raises(GanforgeError, match="not a number"):
        infer_schema(read_csv_bytes(b"a,b\nx,1\ny,2\n", "t.csv"), {"a": "continuous"})
    with pytest.raises(GanforgeError, match="can be modelled"):
        infer_schema(read_csv_bytes(b"a\n1\n1\n", "t.csv"))


def test_metric_definitions_on_known_values():
    assert ks_complement(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 3, 4])) == 1.0
    assert ks_complement(np.array([0.0, 0, 0, 0]), np.array([1.0, 1, 1, 1])) == 0.0
    assert ks_complement(np.array([1.0, 2, 3, 4]), np.array([3.0, 4, 5, 6])) == pytest.approx(0.5)
    assert tv_complement(np.array(["a", "a", "b", "b"]), np.array(["a", "b", "b", "b"])) == pytest.approx(0.75)
    x = np.arange(10.0)
    assert correlation_similarity((x, x), (x, -x)) == pytest.approx(0.0)
    assert correlation_similarity((x, x), (x, x)) == pytest.approx(1.0)
    a, b = np.array(["u", "u", "v", "v"]), np.array(["p", "q", "p", "q"])
    assert contingency_similarity((a, b), (a, b)) == 1.0
    assert contingency_similarity((a, b), (a, np.array(["p", "p", "q", "q"]))) == pytest.approx(0.5)


def test_offline_tables():
    pytest.importorskip("statsmodels")
    from ganforge.families.tabular.datasets import load_table

    fair = load_table("fair")
    assert fair.frame.shape == (6366, 9) and fair.target in fair.frame.columns
    schema = infer_schema(fair.frame)
    assert schema.column("affairs").kind == "continuous" and schema.column("rate_marriage").kind == "categorical"
    anes = load_table("anes96")
    assert anes.frame.shape == (944, 11) and set(anes.frame["vote"]) == {"0.0", "1.0"}
    with pytest.raises(GanforgeError, match="tabular data set"):
        load_table("nosuch")
