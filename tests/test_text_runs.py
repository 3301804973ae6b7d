"""Text runs end to end, made tiny: a few steps of each preset (MLE, SeqGAN, Gumbel), exact resume,
sampling (.txt, .jsonl, prompts, temperature), evaluation and the served JSON route."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.families import load_config
from ganforge.families.base import EvalRequest, SampleRequest
from ganforge.run_folder import RunFolder
from ganforge.runs import load_run, resume, train
from ganforge.training.checkpoint import load_checkpoint

pytestmark = pytest.mark.usefixtures("single_thread")

PRESETS = ("text-mle", "text-seqgan", "text-gumbel")
TINY = [
    "data.name=oracle", "data.batch_size=8",
    "data.oracle.vocab_size=16", "data.oracle.length=6", "data.oracle.hidden_dim=8",
    "data.oracle.train_samples=64", "data.oracle.test_samples=16",
    "model.embed_dim=8", "model.hidden_dim=16", "model.d_embed_dim=8", "model.d_filters=4", "model.d_windows=[2,3]",
    "gan.pretrain_steps=2", "gan.rollouts=2",
    "train.steps=4", "train.log_every=2", "train.sample_every=2", "train.checkpoint_every=2", "train.device=cpu",
    "eval.n=16", "eval.temperatures=[0.8]", "eval.references=16", "eval.self_bleu_n=8",
]
LINES = ["the cat sat on the mat .", "a dog ran far away !", "the end is near .", "time flies like an arrow .",
         "fruit flies like a banana ."] * 8


def tiny(preset: str, *extra: str):
    return load_config(preset, overrides=[*TINY, *extra])


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("text_runs")
    return {p: train(tiny(p), root / p, progress=False) for p in PRESETS}


@pytest.fixture(scope="module")
def text_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("text_file")
    (root / "lines.txt").write_text("\n".join(LINES) + "\n")
    config = tiny("text-seqgan", f"data.name=text:{root / 'lines.txt'}", "data.min_count=1", "data.max_len=10")
    return train(config, root / "run", progress=False)


@pytest.mark.parametrize("preset", PRESETS)
def test_each_preset_trains_a_few_steps(runs, preset) -> None:
    run = runs[preset]
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["step"] == 4 and state["recipe"]["step"] == 4
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4]
    want = "mle_loss" if preset == "text-mle" else "g_loss"  # GAN presets: 2 MLE steps, then adversarial ones
    assert want in records[-1] and all(torch.isfinite(torch.tensor(v)) for v in records[-1].values())
    assert len((run / "samples" / "latest.txt").read_text().splitlines()) == 16


def test_adversarial_steps_change_the_generator(runs) -> None:
    for preset in ("text-seqgan", "text-gumbel"):
        state = load_checkpoint(runs[preset] / "checkpoints" / "last.pt")["recipe"]
        assert "discriminator" in state and "d_opt" in state
        assert int(state["g_opt"]["state"][0]["step"]) == 2  # two adversarial generator updates


def test_resume_is_exact(tmp_path) -> None:
    full = train(tiny("text-seqgan"), tmp_path / "full", progress=False)
    half = train(tiny("text-seqgan", "train.steps=3"), tmp_path / "half", progress=False)
    resume(half, steps=4, progress=False)
    a = load_checkpoint(full / "checkpoints" / "last.pt")["recipe"]
    b = load_checkpoint(half / "checkpoints" / "last.pt")["recipe"]
    for key in ("generator", "discriminator", "rollout"):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key]), key


def test_sample_is_seeded_and_written(runs, tmp_path) -> None:
    loaded = load_run(runs["text-mle"])
    family = loaded.family
    first = family.sample(loaded.model, SampleRequest(n=5, seed=3))
    again = family.sample(loaded.model, SampleRequest(n=5, seed=3))
    assert first.texts == again.texts and len(first.texts) == 5
    assert all(text.strip() for text in first.texts)  # every sample has at least one token
    assert "wrote 5 texts" in family.write(first, tmp_path / "s.txt")
    assert len((tmp_path / "s.txt").read_text().splitlines()) == 5
    family.write(first, tmp_path / "s.jsonl")
    records = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert len(records) == 5 and all(len(r["logprobs"]) == len(r["tokens"]) for r in records)
    assert all(lp <= 0 for r in records for lp in r["logprobs"])
    with pytest.raises(GanforgeError, match=r"\.txt, \.jsonl"):
        family.write(first, tmp_path / "s.png")


def test_prompt_and_temperature(text_run) -> None:
    loaded = load_run(text_run)
    family, model = loaded.family, loaded.model
    samples = family.sample(model, SampleRequest(n=3, seed=1, prompt="The cat zorblax", temperature=0.5))
    assert all(text.startswith("the cat <unk>") for text in samples.texts)
    assert samples.notes and "zorblax" in samples.notes[0]
    records = samples.records()
    assert all(len(r["logprobs"]) == len(r["tokens"]) - r["prompt_tokens"] for r in records)
    with pytest.raises(GanforgeError, match="--temperature"):
        family.sample(model, SampleRequest(n=1, temperature=-1.0))
    with pytest.raises(GanforgeError, match="--class"):
        family.check_conditions(SampleRequest(n=1, class_index=1))


def test_eval_on_oracle_and_on_text(runs, text_run) -> None:
    loaded = load_run(runs["text-gumbel"])
    results = loaded.family.evaluate(RunFolder(runs["text-gumbel"]), loaded.model, EvalRequest())
    assert [r["temperature"] for r in results["temperature_sweep"]] == [0.8, 1.0]
    assert results["oracle_nll"] > 0 and results["nll_test"] > 0 and results["real_data"]["oracle_nll"] > 0
    assert results["protocol"]["oracle"]["vocab_size"] == 16
    assert (runs["text-gumbel"] / "eval" / "temperature_sweep.png").is_file()
    assert "temperature" in loaded.family.report(results)
    json.dumps(results)

    loaded = load_run(text_run)
    results = loaded.family.evaluate(RunFolder(text_run), loaded.model, EvalRequest(n=10))
    assert {"bleu2", "bleu3", "bleu4", "self_bleu4", "nll_test"} <= set(results)
    assert 0 <= results["bleu4"] <= results["bleu2"] <= 1
    with pytest.raises(GanforgeError, match="--against"):
        loaded.family.evaluate(RunFolder(text_run), loaded.model, EvalRequest(against="fortunes"))


def test_generate_route_answers_json(text_run) -> None:
    loaded = load_run(text_run)
    route = next(r for r in loaded.family.routes() if r.name == "generate")
    assert route.output == "json"
    reply = route.handler(loaded.model, route.request(n=2, seed=1, prompt="the dog", temperature=0.9))
    body = json.loads(reply.body)
    assert reply.media_type == "application/json" and len(body["texts"]) == 2
    with pytest.raises(ValueError):
        route.request(n=2, seed=1, colour="red")


def test_unknown_config_key_is_refused() -> None:
    with pytest.raises(GanforgeError, match="gan.rollout"):
        load_config("text-seqgan", overrides=["gan.rollout=3"])
