"""Hard negative captions for text2image: one word swapped for a word of the same kind, learned from captions."""

from __future__ import annotations

import random

import torch

from ganforge.families.text2image.captions import scene_captions
from ganforge.families.text2image.negatives import WordSwaps
from ganforge.families.text2image.recipe import contrastive_loss
from ganforge.families.text2image.scenes import SEEN, random_scene
from ganforge.families.text2image.words import Vocabulary, tokenize


def shapes_captions(count: int = 600) -> list[list[str]]:
    rng = random.Random("negatives-test")
    return [scene_captions(random_scene(rng, SEEN), rng) for _ in range(count)]


def substitutes(swaps: WordSwaps, vocab: Vocabulary, word: str) -> set[str]:
    return {vocab.words[i] for i in swaps.table[vocab.index[word]].tolist() if i > 0}


def test_swaps_are_learned_from_the_caption_words(single_thread):
    captions = shapes_captions()
    vocab = Vocabulary.from_captions(c for caps in captions for c in caps)
    swaps = WordSwaps.from_captions(captions, vocab)
    assert substitutes(swaps, vocab, "circle") == {"square", "triangle", "cross"}
    assert substitutes(swaps, vocab, "red") == {"green", "blue", "yellow", "purple", "white"}
    assert "right" in substitutes(swaps, vocab, "left")
    assert "large" not in substitutes(swaps, vocab, "big")  # synonyms: both describe the same images
    assert not substitutes(swaps, vocab, "a") and not substitutes(swaps, vocab, "the")  # function words


def test_one_word_is_swapped_and_word_pairs_stay_seen(single_thread):
    captions = shapes_captions()
    vocab = Vocabulary.from_captions(c for caps in captions for c in caps)
    swaps = WordSwaps.from_captions(captions, vocab)
    texts = [caps[0] for caps in captions[:64]]
    ids = torch.tensor([vocab.encode(tokenize(t), 24) for t in texts])
    lengths = torch.tensor([len(tokenize(t)) for t in texts])
    torch.manual_seed(0)
    out, changed = swaps(ids, lengths)
    assert changed.all()
    assert ((out != ids).sum(dim=1) == 1).all()
    padded = torch.nn.functional.pad(out, (1, 1))
    for row, n in zip(padded, lengths.tolist(), strict=True):
        words = row[: n + 2].tolist()
        assert all(swaps.bigrams[a, b] for a, b in zip(words, words[1:], strict=False))
    torch.manual_seed(0)
    again, _ = swaps(ids, lengths)
    assert torch.equal(out, again)  # the global RNG decides: resumable


def test_a_caption_without_swappable_words_is_left_alone(single_thread):
    captions = shapes_captions(200)
    vocab = Vocabulary.from_captions(c for caps in captions for c in caps)
    swaps = WordSwaps.from_captions(captions, vocab)
    ids = torch.tensor([vocab.encode(["a", "the"], 24)])
    out, changed = swaps(ids, torch.tensor([2]))
    assert not changed.any() and torch.equal(out, ids)


def test_every_swappable_word_gets_its_own_negative(single_thread):
    captions = shapes_captions()
    vocab = Vocabulary.from_captions(c for caps in captions for c in caps)
    swaps = WordSwaps.from_captions(captions, vocab)
    texts = ["a small red circle at the top left", "a blue square on the right"]
    ids = torch.tensor([vocab.encode(tokenize(t), 24) for t in texts])
    lengths = torch.tensor([len(tokenize(t)) for t in texts])
    torch.manual_seed(0)
    out, out_lengths, rows = swaps.every_word(ids, lengths)
    assert torch.equal(out_lengths, lengths[rows])
    assert ((out != ids[rows]).sum(dim=1) == 1).all()  # one word each
    swapped = {vocab.words[int(ids[r][(o != ids[r]).nonzero()[0, 0]])] for r, o in zip(rows, out, strict=True)}
    assert {"red", "circle", "blue", "square"} <= swapped  # colour and shape words: swapped for every caption
    assert {int(r) for r in rows} == {0, 1}
    torch.manual_seed(0)
    assert torch.equal(swaps.every_word(ids, lengths)[0], out)  # the global RNG decides: resumable


def test_row_negatives_count_only_for_their_own_image(single_thread):
    images = torch.eye(4)
    plain = contrastive_loss(images, images, 0.1)
    fitting = images[:2].clone()  # each fits image 0 or 1 exactly
    assert float(contrastive_loss(images, images, 0.1, fitting, torch.tensor([2, 3]))) < float(plain) + 1e-3
    assert float(contrastive_loss(images, images, 0.1, fitting, torch.tensor([0, 1]))) > float(plain) + 0.1
    assert torch.isfinite(contrastive_loss(images, images, 0.1, fitting[:0], torch.tensor([], dtype=torch.long)))


def test_extra_negatives_raise_the_contrastive_loss_when_they_fit_the_image(single_thread):
    images = torch.eye(4)
    plain = contrastive_loss(images, images, 0.1)
    assert float(contrastive_loss(images, images, 0.1, images[:2] * 0.0 + torch.ones(2, 4))) >= float(plain) - 1e-6
    assert float(contrastive_loss(images, images, 0.1, images[:2])) > float(plain) + 0.1


def test_image_matcher_embeds_pictures_of_power_of_two_sizes(single_thread):
    import pytest

    from ganforge.errors import GanforgeError
    from ganforge.families.text2image.nets import ImageMatcher

    for size in (16, 32, 64):
        assert ImageMatcher(dim=12, width=4, size=size)(torch.zeros(2, 3, size, size)).shape == (2, 12)
    with pytest.raises(GanforgeError, match="power of two"):
        ImageMatcher(size=24)
