"""Tabular family, model side: exact value modes for numeric columns with few repeated values (and their place
in the conditional vector), and the auxiliary target classifier (training, exact resume, bad target)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from train_helpers import SigintAt, assert_same_state, checkpoint_of

from ganforge.errors import GanforgeError
from ganforge.families import load_config
from ganforge.families.tabular.generate import resolve_where
from ganforge.families.tabular.io import read_csv_bytes
from ganforge.families.tabular.recipe import target_spans
from ganforge.families.tabular.schema import infer_schema
from ganforge.families.tabular.transform import TableTransform, fit_transform
from ganforge.runs import resume, train
from ganforge.training.trainer import TrainingInterrupted

pytestmark = pytest.mark.usefixtures("single_thread")

RATES = ["0.0", "0.1666667", "0.2307692", "1.4", "2.5", "3.2307692", "4.9", "7.8399963", "11.2", "16.0", "24.5",
         "57.5999908"]


def rates_csv(rows: int = 300, seed: int = 0) -> bytes:
    """A table whose ``rate`` has 12 repeated values (too many to be categorical) that carry ``group``."""
    rng = np.random.default_rng(seed)
    lines = ["group,rate,x"]
    for _ in range(rows):
        k = int(rng.integers(0, len(RATES)))
        lines.append(f"g{k % 3},{RATES[k]},{rng.normal(0, 1):.3f}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def frame():
    return read_csv_bytes(rates_csv(), "rates.csv")


@pytest.fixture(scope="module")
def transform(frame):
    return fit_transform(frame, infer_schema(frame), max_modes=4, seed=0, max_value_modes=100)


def test_repeated_values_get_exact_modes(frame, transform):
    schema = transform.schema
    assert schema.column("rate").kind == "continuous"  # the schema (and so the metrics) is unchanged
    assert transform.modes["rate"].exact and not transform.modes["x"].exact
    assert transform.modes["rate"].means == sorted(float(v) for v in RATES)
    back = transform.decode(transform.encode(frame))
    assert (back["rate"].astype(float) == frame["rate"].astype(float)).all()  # every value comes back exactly
    assert set(back["rate"]) <= {f"{float(v):.7f}" for v in RATES}
    mixture = fit_transform(frame, schema, max_modes=4, seed=0, max_value_modes=0)
    assert not mixture.modes["rate"].exact and mixture.cond_columns == ["group"]
    too_few = fit_transform(frame, schema, max_modes=4, seed=0, max_value_modes=11)
    assert not too_few.modes["rate"].exact


def test_exact_columns_join_the_conditional_vector(frame, transform):
    assert transform.cond_columns == ["group", "rate"] and transform.where_columns == ["group"]
    rate_span = transform.spans[transform.column_spans["rate"][1]]
    assert transform.cond_width == 3 + rate_span.width == 3 + len(RATES)
    codes = transform.cond_codes(transform.encode(frame))
    assert [len(np.unique(c)) for c in codes] == [3, len(RATES)]
    again = TableTransform.from_dict(json.loads(json.dumps(transform.to_dict())))
    assert again.cond_columns == transform.cond_columns and again.modes["rate"].exact
    with pytest.raises(GanforgeError, match="works on categorical columns \\(group\\); 'rate' is continuous"):
        resolve_where(transform, (("rate", "1.4"),))


def test_target_spans(transform):
    span, hidden = target_spans(transform, "group")
    assert span.width == 3 and hidden == [(span.start, 3)]
    span, hidden = target_spans(transform, "rate")  # a numeric target: its modes, with its offset hidden too
    assert span.width == len(RATES) and len(hidden) == 2
    with pytest.raises(GanforgeError, match="eval.target=COLUMN, or loss.target_weight=0"):
        target_spans(transform, None)


TINY = ["model.z_dim=8", "model.g_dims=[16]", "model.d_dims=[16]", "model.pac=4", "data.batch_size=32",
        "train.log_every=1", "train.sample_every=100", "train.checkpoint_every=3", "train.device=cpu",
        "model.max_modes=4", "loss.target_weight=1", "eval.target=group"]


def test_target_classifier_trains_and_resumes_exactly(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_bytes(rates_csv())
    def config(steps: int):
        return load_config("tabular-ctgan", overrides=[f"data.name=table:{path}", *TINY, f"train.steps={steps}"])

    whole = train(config(4), tmp_path / "whole", progress=False)
    half = train(config(2), tmp_path / "half", progress=False)
    resume(half, steps=4, progress=False)
    a = torch.load(whole / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    b = torch.load(half / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    for net in ("generator", "discriminator", "classifier"):
        for key, value in a[net].items():
            assert torch.equal(value, b[net][key]), f"{net}.{key}"
    logged = [json.loads(line) for line in (whole / "metrics.jsonl").read_text().splitlines()]
    losses = [r["target_loss"] for r in logged if "target_loss" in r]
    assert len(losses) == 4 and all(np.isfinite(losses))


def test_lr_decay_resumes_exactly_after_an_interruption(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_bytes(rates_csv())
    config = load_config("tabular-ctgan", overrides=[f"data.name=table:{path}", *TINY[:-2], "train.steps=6",
                                                     "optim.lr_decay=0.5"])
    full = train(config, tmp_path / "full", progress=False)
    with pytest.raises(TrainingInterrupted):
        train(config, tmp_path / "cut", progress=False, callbacks=[SigintAt(step=3)])
    resume(tmp_path / "cut", progress=False)
    a, b = checkpoint_of(full), checkpoint_of(tmp_path / "cut")
    assert_same_state(a["recipe"], b["recipe"])
    assert a["recipe"]["lr_decay"]["schedulers"][0]["last_epoch"] == 6
    assert a["recipe"]["opt_g"]["param_groups"][0]["lr"] == a["recipe"]["opt_d"]["param_groups"][0]["lr"] == 0.0


def test_target_classifier_needs_a_target(tmp_path):
    path = tmp_path / "numbers.csv"
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["a", "b"])
        out.writerows([[i * 0.37, i * 1.1] for i in range(40)])
    config = load_config("tabular-ctgan", overrides=[f"data.name=table:{path}", *TINY[:-1], "train.steps=1"])
    with pytest.raises(GanforgeError, match="loss.target_weight needs a modelled target column"):
        train(config, tmp_path / "r", progress=False)


def test_chained_heads_read_the_levels_drawn_before(transform):
    from ganforge.families.tabular.nets import TableGenerator, hard_activation

    torch.manual_seed(0)
    spans = transform.spans
    chained = TableGenerator(8, transform.cond_width, [16], spans, chained=True).eval()
    z, cond = torch.randn(64, 8), torch.zeros(64, transform.cond_width)
    group = spans.index(transform.cond_spans()[0])  # the first one-hot group; the rate spans come after it
    later = transform.column_spans["rate"][-1]
    assert later > group
    outputs = []
    for level in range(3):
        raw, rows = chained(z, cond, hard_activation(torch.Generator().manual_seed(1), {group: level}))
        span = spans[group]
        assert (rows[:, span.start + level] == 1).all() and rows[:, span.start: span.start + span.width].sum() == 64
        outputs.append(raw)
    before, after = spans[group].start + spans[group].width, spans[later].start
    assert all(torch.equal(outputs[0][:, :before], o[:, :before]) for o in outputs)  # the spans drawn before
    assert not torch.allclose(outputs[0][:, after:], outputs[1][:, after:])  # the later spans read the level

    shared = TableGenerator(8, transform.cond_width, [16], spans).eval()
    _, free = shared(z, cond, hard_activation(torch.Generator().manual_seed(1)))
    _, forced = shared(z, cond, hard_activation(torch.Generator().manual_seed(1), {group: 2}))
    others = torch.ones(free.shape[1], dtype=torch.bool)
    others[spans[group].start: spans[group].start + spans[group].width] = False
    assert torch.equal(free[:, others], forced[:, others])  # forcing one group leaves the other draws alone
