"""The text family's pieces: BLEU / Self-BLEU on hand-computed values, the oracle's determinism, the
vocabulary and tokenizer, and bad input files."""

from __future__ import annotations

import math

import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.families.text.bleu import bleu, self_bleu
from ganforge.families.text.config import OracleConfig, TextDataConfig
from ganforge.families.text.data import build_text_data
from ganforge.families.text.oracle import Oracle, oracle_data
from ganforge.families.text.sampling import categorical
from ganforge.families.text.vocab import EOS, PAD, UNK, Vocabulary, detokenize, to_rows, tokenize

pytestmark = pytest.mark.usefixtures("single_thread")


def words(text: str) -> list[str]:
    return text.split()


# --- BLEU and Self-BLEU --------------------------------------------------------------------------------


def test_bleu_of_a_reference_itself_is_one() -> None:
    ref = words("the quick brown fox jumps over the dog")
    assert bleu([ref], [ref, words("something else entirely here")], 4) == pytest.approx(1.0)


def test_bleu_hand_computed() -> None:
    hyp, ref = words("the cat sat on the mat"), words("the cat is on the mat")
    # unigrams: the x2 (clipped at 2), cat, on, mat match, sat does not -> 5/6; bigrams: the cat, on the,
    # the mat of 5 -> 3/5; equal lengths -> no brevity penalty.
    assert bleu([hyp], [ref], 2) == pytest.approx(math.sqrt(5 / 6 * 3 / 5))
    # trigrams: "on the mat" of 4 -> 1/4; 4-grams: none of 3 -> smoothed to 0.1 / 3.
    assert bleu([hyp], [ref], 4) == pytest.approx((5 / 6 * 3 / 5 * 1 / 4 * 0.1 / 3) ** 0.25)


def test_bleu_brevity_penalty_and_no_overlap() -> None:
    short, ref = words("the cat"), words("the cat sat on the mat")
    assert bleu([short], [ref], 2) == pytest.approx(math.exp(1 - 6 / 2))
    assert bleu([words("zebra yak")], [ref], 2) == 0.0  # no unigram in common
    # The closest reference length decides the penalty: a 2-word reference removes it.
    assert bleu([short], [ref, words("a dog")], 2) == pytest.approx(1.0)


def test_bleu_clips_by_the_best_single_reference() -> None:
    hyp = words("the the the")
    refs = [words("the cat"), words("the dog the")]  # at most 2 "the" in one reference
    assert bleu([hyp], refs, 1) == pytest.approx(2 / 3)


def test_self_bleu_leaves_each_sample_out() -> None:
    samples = [words("a b c d"), words("a b c d"), words("e f g h")]
    # each copy of "a b c d" finds the other (1.0); "e f g h" shares no word with the rest (0.0).
    assert self_bleu(samples, 2) == pytest.approx(2 / 3)
    assert self_bleu([words("a b c d"), words("e f g h")], 2) == 0.0
    assert self_bleu([words("a b c")] * 4, 3) == pytest.approx(1.0)


# --- the oracle ------------------------------------------------------------------------------------------


def test_oracle_is_deterministic_for_a_seed() -> None:
    spec = OracleConfig(seed=3, vocab_size=30, length=7, hidden_dim=8, train_samples=40, test_samples=10)
    a, train_a, test_a = oracle_data(spec)
    b, train_b, test_b = oracle_data(spec)
    assert torch.equal(train_a, train_b) and torch.equal(test_a, test_b)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert a.nll(train_a - 4) == pytest.approx(b.nll(train_b - 4))
    other = Oracle(spec.model_copy(update={"seed": 4}))
    assert not torch.equal(other.out.weight, a.out.weight)
    assert train_a.shape == (40, 7) and int(train_a.min()) >= 4 and int(train_a.max()) < 34


def test_oracle_likes_its_own_samples_more_than_uniform_ones() -> None:
    spec = OracleConfig(seed=0, vocab_size=50, length=10, hidden_dim=16, train_samples=200, test_samples=10)
    oracle, train, _ = oracle_data(spec)
    uniform = torch.randint(0, 50, (200, 10), generator=torch.Generator().manual_seed(0))
    assert oracle.nll(train - 4) < oracle.nll(uniform) - 0.5


def test_oracle_data_kind_records_its_settings() -> None:
    spec = TextDataConfig(name="oracle", oracle=OracleConfig(vocab_size=20, length=5, hidden_dim=4,
                                                             train_samples=30, test_samples=5))
    data = build_text_data(spec)
    assert len(data.vocab) == 24 and data.max_len == 5 and not data.end_token
    assert data.info["oracle"]["vocab_size"] == 20 and data.info["oracle"]["seed"] == 0


# --- vocabulary, tokens and sampling -------------------------------------------------------------------


def test_tokenize_and_detokenize() -> None:
    assert tokenize("Don't panic! (It's 42.)") == ["don't", "panic", "!", "(", "it's", "42", ".", ")"]
    assert detokenize(["don't", "panic", "!", "(", "it's", "42", ".", ")"]) == "don't panic! (it's 42.)"


def test_vocabulary_is_built_by_frequency_then_alphabet() -> None:
    vocab = Vocabulary.build([["b", "a", "c"], ["a", "b", "d"], ["a"]], max_size=6, min_count=1)
    assert vocab.words[4:] == ["a", "b"]  # a: 3, b: 2; c and d (1 each) do not fit in 6
    ids, unknown = vocab.encode(["a", "zebra", "b"])
    assert ids == [4, UNK, 5] and unknown == ["zebra"]
    assert vocab.decode([4, 5, EOS, 4]) == ["a", "b"]


def test_rows_end_with_eos_then_pad() -> None:
    rows = to_rows([[5, 6], [7, 8, 9, 10, 11]], 4)
    assert rows.tolist() == [[5, 6, EOS, PAD], [7, 8, 9, EOS]]


def test_categorical_draws_follow_the_probabilities() -> None:
    logp = torch.log_softmax(torch.tensor([[0.0, 1.0, 2.0, -1e9]]), dim=-1).expand(20_000, 4)
    counts = torch.bincount(categorical(logp, torch.Generator().manual_seed(0)), minlength=4) / 20_000
    assert torch.allclose(counts, logp[0].exp(), atol=0.015) and counts[3] == 0


# --- bad input -----------------------------------------------------------------------------------------


def text_spec(path, **changes) -> TextDataConfig:
    return TextDataConfig(name=f"text:{path}", min_count=1, **changes)


def test_empty_file_is_refused(tmp_path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("\n  \n")
    with pytest.raises(GanforgeError, match="empty"):
        build_text_data(text_spec(path))


def test_non_utf8_names_the_line(tmp_path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"one line\ntwo lines\ncaf\xe9 au lait\n")
    with pytest.raises(GanforgeError, match=r"line 3 is not UTF-8"):
        build_text_data(text_spec(path))


def test_missing_file_and_unknown_kind(tmp_path) -> None:
    with pytest.raises(GanforgeError, match="not found"):
        build_text_data(text_spec(tmp_path / "nope.txt"))
    with pytest.raises(GanforgeError, match="oracle, fortunes or text:PATH"):
        build_text_data(TextDataConfig(name="shakespeare"))


def test_long_lines_are_cut_and_counted(tmp_path, capsys) -> None:
    path = tmp_path / "long.txt"
    path.write_text("short line here\n" * 10 + ("word " * 30 + "\n") * 2)
    data = build_text_data(text_spec(path, max_len=8))
    err = capsys.readouterr().err
    assert "warning: 2 of 12 examples" in err and err.count("\n") == 1
    assert data.info["cut_examples"] == 2 and data.max_len == 8
    assert int((data.train == EOS).sum() + (data.test == EOS).sum()) == 12  # every row still ends
