"""Tabular family, run side: a tiny CTGAN run on a CSV, exact resume, sampling (seeded, --where),
evaluation with its protocol, the served CSV route, and the CLI's one-line errors."""

from __future__ import annotations

import csv
import io
import random
import subprocess
import sys

import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.families import get_family, load_config
from ganforge.families.base import EvalRequest, SampleRequest
from ganforge.run_folder import RunFolder
from ganforge.runs import load_run, resume, train

pytestmark = pytest.mark.usefixtures("single_thread")

TINY = ["model.z_dim=8", "model.g_dims=[16]", "model.d_dims=[16]", "model.pac=4", "data.batch_size=32",
        "train.steps=6", "train.log_every=2", "train.sample_every=3", "train.checkpoint_every=3",
        "train.device=cpu", "model.max_modes=4"]


def write_table(path, rows: int = 120) -> None:
    r = random.Random(0)
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["age", "income", "city", "owner"])
        for _ in range(rows):
            inc = "" if r.random() < 0.1 else f"{r.gauss(30000, 8000):.2f}"
            out.writerow([r.randint(18, 80), inc, r.choice(["Oslo", "Lima", "Pune"]), r.random() < 0.3])


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("table") / "t.csv"
    write_table(path)
    return path


def tiny_config(table, *extra: str):
    return load_config("tabular-ctgan", overrides=[f"data.name=table:{table}", *TINY, *extra])


@pytest.fixture(scope="module")
def run(table, tmp_path_factory):
    return train(tiny_config(table), tmp_path_factory.mktemp("runs") / "r", progress=False)


def test_run_folder(run):
    assert (run / "checkpoints" / "last.pt").is_file() and (run / "schema.json").is_file()
    assert (run / "samples" / "latest.csv").is_file() and (run / "samples" / "step-0000003.csv").is_file()
    header = (run / "samples" / "latest.csv").read_text().splitlines()[0]
    assert header == "age,income,city,owner"


def test_exact_resume(table, tmp_path):
    whole = train(tiny_config(table), tmp_path / "whole", progress=False)
    half = train(tiny_config(table, "train.steps=3"), tmp_path / "half", progress=False)
    resume(half, steps=6, progress=False)
    a = torch.load(whole / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    b = torch.load(half / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    for net in ("generator", "discriminator"):
        for key, value in a[net].items():
            assert torch.equal(value, b[net][key]), f"{net}.{key}"


def test_sample_is_seeded_and_typed(run):
    loaded = load_run(run)
    family = loaded.family
    rows = family.sample(loaded.model, SampleRequest(n=50, seed=3))
    again = family.sample(loaded.model, SampleRequest(n=50, seed=3))
    assert rows.equals(again) and list(rows.columns) == ["age", "income", "city", "owner"]
    assert set(rows["city"]) <= {"Oslo", "Lima", "Pune"} and set(rows["owner"]) <= {"True", "False"}
    assert rows["age"].str.fullmatch(r"\d+").all()
    ages = rows["age"].astype(int)
    assert ages.between(18, 80).all()


def test_where(run, tmp_path):
    loaded = load_run(run)
    family = loaded.family
    rows = family.sample(loaded.model, SampleRequest(n=40, seed=1, where=(("city", "Lima"),)))
    assert (rows["city"] == "Lima").all()
    assert (family.sample(loaded.model, SampleRequest(n=10, where=(("owner", "true"),)))["owner"] == "True").all()
    for where, words in [((("nosuch", "1"),), "no column 'nosuch'"), ((("city", "Paris"),), "no value 'Paris'"),
                         ((("income", "3"),), "categorical columns")]:
        with pytest.raises(GanforgeError, match=words):
            family.sample(loaded.model, SampleRequest(n=5, where=where))
    summary = family.write(rows, tmp_path / "s.csv")
    assert "40 rows" in summary and (tmp_path / "s.csv").read_text().startswith("age,income,city,owner")
    with pytest.raises(GanforgeError, match=".csv"):
        family.write(rows, tmp_path / "s.png")


def test_evaluate_has_every_metric_and_protocol(run, table):
    loaded = load_run(run)
    results = loaded.family.evaluate(RunFolder(run), loaded.model, EvalRequest(n=60, against=f"table:{table}"))
    assert 0 <= results["column_shapes"] <= 1 and 0 <= results["column_pair_trends"] <= 1
    assert results["ml_efficacy"]["target"] == "owner" and "gap" in results["ml_efficacy"]
    assert results["privacy"]["synthetic_rows"] == 60 and "dcr_holdout_median" in results["privacy"]
    assert results["protocol"]["reference_rows"] == 24  # the held-out fifth of 120 rows
    assert "column_shapes" in loaded.family.report(results)
    with pytest.raises(GanforgeError, match="unknown metric"):
        loaded.family.evaluate(RunFolder(run), loaded.model, EvalRequest(metrics="fid"))


def test_served_route_answers_csv(run):
    loaded = load_run(run)
    (route,) = loaded.family.routes()
    assert route.name == "generate" and route.output == "table"
    reply = route.handler(loaded.model, route.request.model_validate({"n": 7, "seed": 2, "where": {"city": "Oslo"}}))
    assert reply.media_type == "text/csv"
    rows = list(csv.reader(io.StringIO(reply.body.decode())))
    assert len(rows) == 8 and all(r[2] == "Oslo" for r in rows[1:])
    with pytest.raises(ValueError):
        route.request.model_validate({"n": 5, "rows": 3})


def test_cli_error_is_one_line(run, tmp_path):
    args = ["sample", str(run), "--n", "3", "--where", "nosuch=1", "--out", str(tmp_path / "x.csv")]
    done = subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.strip()]) == 1, done.stderr


def test_header_only_table_is_refused(tmp_path):
    (tmp_path / "h.csv").write_text("a,b\n")
    with pytest.raises(GanforgeError, match="header but no rows"):
        train(tiny_config(tmp_path / "h.csv"), tmp_path / "bad", progress=False)
    assert not (tmp_path / "bad").exists()


def test_family_registered():
    assert get_family("tabular").name == "tabular"
