"""The text2image family: rendering, captions, the shipped classifier, training, sampling and bad input."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch
from PIL import Image

import ganforge.families as families
from ganforge.errors import GanforgeError
from ganforge.families.base import SampleRequest
from ganforge.families.text2image.captions import POSITION_PHRASES, SIZE_WORDS, scene_captions
from ganforge.families.text2image.classifier import AttributeNet, classify, load_classifier
from ganforge.families.text2image.data import build_captioned, make_shapes
from ganforge.families.text2image.evaluation import accuracy, prompt_set
from ganforge.families.text2image.nets import TextEncoder
from ganforge.families.text2image.recipe import encode_together
from ganforge.families.text2image.scenes import COLOURS, HELD_OUT, SEEN, SHAPES, random_scene
from ganforge.families.text2image.words import Vocabulary, check_prompt, encode_prompts, tokenize

TINY = ["data.count=48", "data.batch_size=8", "data.size=16", "model.g_width=4", "model.d_width=4",
        "model.text_dim=16", "model.word_dim=8", "model.z_dim=8", "train.steps=4", "train.log_every=2",
        "train.sample_every=2", "train.checkpoint_every=2", "train.grid_size=8", "train.device=cpu"]


@pytest.fixture(scope="module", autouse=True)
def registered(single_thread):
    """The family registered for these tests (whether or not FAMILY_MODULES lists it yet)."""
    saved = dict(families.FAMILY_MODULES)
    families.FAMILY_MODULES["text2image"] = "text2image"
    families.get_family.cache_clear()
    yield
    families.FAMILY_MODULES.clear()
    families.FAMILY_MODULES.update(saved)
    families.get_family.cache_clear()


def tiny_config(root: Path, *extra: str):
    return families.load_config("text2image-shapes", overrides=[*TINY, f"data.root={root}", *extra])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    from ganforge.runs import train

    base = tmp_path_factory.mktemp("t2i")
    return train(tiny_config(base / "data"), base / "run", progress=False)


# --- data ------------------------------------------------------------------------------------------------


def test_rendering_is_deterministic_for_a_seed():
    a, b, c = make_shapes(12, seed=3), make_shapes(12, seed=3), make_shapes(12, seed=4)
    assert torch.equal(a["images"], b["images"]) and a["captions"] == b["captions"]
    assert torch.equal(a["attributes"], b["attributes"])
    assert not torch.equal(a["images"], c["images"])
    assert a["images"].shape == (12, 3, 64, 64) and a["images"].dtype == torch.uint8


def test_captions_match_the_stored_attributes():
    rng = random.Random(0)
    colours, shapes = set(COLOURS), set(SHAPES)
    for _ in range(300):
        scene = random_scene(rng)
        assert all((s.colour, s.shape) not in HELD_OUT for s in scene.shapes)
        for caption in scene_captions(scene, rng):
            words = set(tokenize(caption))
            assert words & colours <= {s.colour for s in scene.shapes}, caption
            assert words & shapes <= {s.shape for s in scene.shapes}, caption
            assert words & colours and words & shapes, caption
            if len(scene.shapes) == 1:
                item = scene.shapes[0]
                assert any(phrase in caption for phrase in POSITION_PHRASES[item.position]), caption
                sizes = {w for ws in SIZE_WORDS.values() for w in ws} & words
                assert sizes <= set(SIZE_WORDS[item.size]), caption


def test_held_out_combinations_never_train():
    data = make_shapes(400, seed=1)
    table = data["attributes"]
    seen = {(int(c), int(s)) for c, s in table[..., :2].reshape(-1, 2).tolist() if c >= 0}
    held = {(list(COLOURS).index(c), SHAPES.index(s)) for c, s in HELD_OUT}
    assert seen and not seen & held
    assert len(SEEN) == 20


def test_captions_folder_skips_and_counts_bad_files(tmp_path, capsys):
    for i, colour in enumerate(["red", "blue", "green", "white"]):
        Image.new("RGB", (20, 24), colour).save(tmp_path / f"{i}.png")
    (tmp_path / "0.txt").write_text("a red picture\n\nall red\n")
    (tmp_path / "1.txt").write_text("a blue picture\n")
    (tmp_path / "2.txt").write_text("\n  \n")  # empty captions
    (tmp_path / "bad.png").write_bytes(b"not a png")
    (tmp_path / "bad.txt").write_text("unreadable image\n")
    data = build_captioned(f"captions:{tmp_path}", 0, 0, 16, 8)
    assert len(data) == 2 and data.images.shape == (2, 3, 16, 16)
    assert data.captions[0] == ["a red picture", "all red"]
    assert "picture" in data.vocab.index
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "skipped 3 of 5" in err[0] and "1 no .txt" in err[0] and "1 empty captions" in err[0]


def test_captions_folder_without_any_caption_is_one_error(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "a.png")
    with pytest.raises(GanforgeError, match="same-named .txt"):
        build_captioned(f"captions:{tmp_path}", 0, 0, 16, 8)
    with pytest.raises(GanforgeError, match="unknown data set"):
        build_captioned("nosuch", 0, 0, 16, 8)


# --- words and prompts -------------------------------------------------------------------------------------


def test_prompts_are_checked_and_unknown_words_named(capsys):
    vocab = Vocabulary(["a", "red", "circle"])
    with pytest.raises(GanforgeError, match="empty"):
        check_prompt("  ,. ", 8)
    with pytest.raises(GanforgeError, match="at most 8"):
        check_prompt("a " * 9, 8)
    with pytest.raises(GanforgeError, match="characters"):
        check_prompt("x" * 501, 8)
    ids, lengths, unknown = encode_prompts(["A red Zorb!", "a circle"], vocab, 6)
    assert unknown == ["zorb"] and lengths.tolist() == [3, 2]
    assert ids[0].tolist() == [vocab.index["a"], vocab.index["red"], 1, 0, 0, 0]
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "zorb" in err[0]


# --- the shipped classifier ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [64, 32])
def test_attribute_classifier_reads_real_pictures(size):
    prompts, images, labels, held = prompt_set(1, size=size)
    assert len(prompts) == 432 and int(held.sum()) == 72 and images.shape[-1] == size
    net = load_classifier(input_size=size)
    scores = accuracy(classify(net, images), labels, torch.ones(len(prompts), dtype=torch.bool))
    for name in ("colour", "shape", "size", "position"):
        assert scores[name] > 0.95, scores


def test_a_missing_classifier_variant_is_one_error(tmp_path):
    with pytest.raises(GanforgeError, match="text2image_attributes.py --size 32"):
        load_classifier(path=str(tmp_path / "none.pt"), input_size=32)
    with pytest.raises(GanforgeError, match="reads 64 or 32"):
        AttributeNet(48)


# --- training, sampling, serving -----------------------------------------------------------------------------


def test_a_few_training_steps_write_a_run(tiny_run):
    assert (tiny_run / "checkpoints" / "last.pt").is_file()
    assert (tiny_run / "samples" / "latest.png").is_file() and (tiny_run / "samples" / "step-0000004.png").is_file()
    state = torch.load(tiny_run / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 4 and "circle" in state["vocab"]


@pytest.mark.parametrize("extra", [["model.matcher_width=0", "loss.swap_share=0"], ["model.matcher_width=4"],
                                   ["model.matcher_width=4", "loss.swap_every_word=false"]],
                         ids=["plain", "swaps-and-matcher", "one-swap"])
def test_resume_is_exact(tmp_path, extra):
    from ganforge.runs import resume, train

    config = tiny_config(tmp_path / "data", *extra)
    whole = train(config, tmp_path / "whole", progress=False)
    half = train(config, tmp_path / "half", steps=2, progress=False)
    resume(half, 4, progress=False)
    a = torch.load(whole / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    b = torch.load(half / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    with_matcher = "model.matcher_width=4" in extra
    keys = ("generator", "discriminator", "encoder", *(("matcher",) if with_matcher else ()))
    assert ("matcher" in a) == with_matcher
    for key in keys:
        for name, tensor in a[key].items():
            assert torch.equal(tensor, b[key][name]), f"{key}.{name}"


def test_the_generator_step_skips_the_discriminator_weight_gradients():
    from ganforge.families.text2image.recipe import frozen

    d, g = torch.nn.Linear(3, 1), torch.nn.Linear(2, 3)
    with frozen(d, None):
        d(g(torch.randn(4, 2))).sum().backward()
    assert d.weight.grad is None and g.weight.grad is not None  # only the generator's gradients
    assert all(p.requires_grad for p in d.parameters())  # restored afterwards


def test_sample_prompt_prompt_file_and_outputs(tiny_run, tmp_path, capsys):
    from ganforge.runs import load_run

    run = load_run(tiny_run)
    family = run.family
    one = family.sample(run.model, SampleRequest(n=3, seed=1, prompt="a red circle on the left"))
    again = family.sample(run.model, SampleRequest(n=3, seed=1, prompt="a red circle on the left"))
    assert one.images.shape == (3, 3, 16, 16) and torch.equal(one.images, again.images)
    assert one.images.min() >= -1 and one.images.max() <= 1
    assert "grid of 3" in family.write(one, tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    many = family.sample(run.model, SampleRequest(prompts=("a blue square at the top", "a small green blob")))
    family.write(many, tmp_path / "pf")
    assert sorted(p.name for p in (tmp_path / "pf").iterdir()) == ["00000-a-blue-square-at-the-top.png",
                                                                  "00001-a-small-green-blob.png"]
    assert "blob" in capsys.readouterr().err
    with pytest.raises(GanforgeError, match="empty"):
        family.sample(run.model, SampleRequest(prompt=""))
    with pytest.raises(GanforgeError, match="runs write"):
        family.write(one, tmp_path / "x.gif")
    with pytest.raises(GanforgeError, match="--class"):
        family.check_conditions(SampleRequest(class_index=1))


def test_eval_reports_seen_and_held_out_with_protocol(tiny_run):
    from ganforge.families.base import EvalRequest
    from ganforge.run_folder import RunFolder
    from ganforge.runs import load_run

    run = load_run(tiny_run)
    results = run.family.evaluate(RunFolder(tiny_run), run.model, EvalRequest(n=432, seed=0))
    assert set(results) == {"generated", "reference_real", "reference_shuffled", "protocol"}
    assert results["reference_real"]["seen"]["colour"] > 0.95
    assert results["protocol"]["held_out_prompts"] == 72 and results["protocol"]["images"] == 432
    assert results["reference_real"]["fid"] < results["generated"]["fid"]
    assert "held_out" in run.family.report(results)


def test_generate_route_returns_a_png_and_refuses_bad_requests(tiny_run):
    from pydantic import ValidationError

    from ganforge.runs import load_run

    run = load_run(tiny_run)
    route = next(r for r in run.family.routes() if r.name == "generate")
    reply = route.handler(run.model, route.request(prompt="a red circle", n=2, seed=1))
    assert reply.media_type == "image/png" and reply.body[:4] == b"\x89PNG"
    with pytest.raises(GanforgeError, match="empty"):
        route.handler(run.model, route.request(prompt="", n=1))
    with pytest.raises(GanforgeError, match="empty"):
        route.handler(run.model, route.request(prompt=None, n=1))
    with pytest.raises(ValidationError):
        route.request(prompt="a", n=1, colour="red")
    with pytest.raises(ValidationError):
        route.request(prompt="a", n=1000)


def test_config_refuses_unknown_keys_and_bad_sizes(tmp_path):
    with pytest.raises(GanforgeError, match="unknown key 'model.g_widht'"):
        tiny_config(tmp_path, "model.g_widht=3")
    from ganforge.runs import train

    with pytest.raises(GanforgeError, match="power of two"):
        train(tiny_config(tmp_path / "data", "data.size=24"), tmp_path / "bad", progress=False)


def test_generator_channels_can_be_set_per_stage(tmp_path):
    from ganforge.families.text2image.model import build_networks
    from ganforge.families.text2image.nets import Generator

    wide = Generator(8, 16, 4, 16, channels=[32, 24, 16])
    assert [b.conv2.out_channels for b in wide.blocks] == [24, 16] and wide.to_rgb.in_channels == 16
    assert wide(torch.randn(2, 8), torch.randn(2, 16)).shape == (2, 3, 16, 16)
    generator, _ = build_networks(tiny_config(tmp_path, "model.g_channels=[32,24,16]"), 30)
    assert [b.conv1.in_channels for b in generator.blocks] == [32, 24]
    with pytest.raises(GanforgeError, match="3 positive channel counts"):
        Generator(8, 16, 4, 16, channels=[32, 16])


def test_captions_encoded_together_match_one_call_each():
    torch.manual_seed(0)
    encoder = TextEncoder(vocab_size=30, dim=16, word_dim=8)
    batches = [(torch.randint(1, 30, (n, 7)), torch.randint(1, 8, (n,))) for n in (4, 3, 9)]
    together = encode_together(encoder, batches)
    assert [t.shape for t in together] == [(4, 16), (3, 16), (9, 16)]
    for joint, (ids, lengths) in zip(together, batches, strict=True):
        torch.testing.assert_close(joint, encoder(ids, lengths), rtol=1e-5, atol=1e-6)


def test_evaluation_during_training_keeps_the_best_checkpoint_and_changes_no_training(tiny_run, tmp_path, capsys):
    import json

    from ganforge.runs import load_run, train

    run = train(tiny_config(tmp_path / "data", "eval.every=2"), tmp_path / "evaluated", progress=False)
    records = [json.loads(r) for r in (run / "metrics.jsonl").read_text().splitlines() if r]
    evals = [r for r in records if "eval_all_four" in r]
    assert [r["step"] for r in evals] == [2, 4]
    assert all(0 <= r["eval_shape"] <= 1 and r["eval_all_four"] <= r["eval_shape"] for r in evals)
    first_best = max(evals, key=lambda r: r["eval_all_four"])  # ties keep the earlier checkpoint
    assert load_run(run, checkpoint="best").step == first_best["step"]
    a = torch.load(tiny_run / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    b = torch.load(run / "checkpoints" / "last.pt", weights_only=True)["recipe"]
    for key in ("generator", "encoder", "discriminator"):
        for name, tensor in a[key].items():
            assert torch.equal(tensor, b[key][name]), f"{key}.{name}"
    captions = tmp_path / "captions"
    captions.mkdir()
    for i in range(4):
        Image.new("RGB", (16, 16), (200, 10, 10)).save(captions / f"{i}.png")
        (captions / f"{i}.txt").write_text("a red picture\n")
    capsys.readouterr()
    own = train(tiny_config(tmp_path / "data", "eval.every=2", f"data.name=captions:{captions}"), tmp_path / "c",
                progress=False)
    assert "no evaluation during training" in capsys.readouterr().err
    assert not (own / "checkpoints" / "best.pt").exists()
