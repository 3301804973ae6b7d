"""Hard negative captions made from the captions' own words: one word swapped for a word of the same kind.

A real image with a random other caption is an easy negative: the two captions almost always differ in
colour or place, so a discriminator that checks only those rejects it, and nothing asks it to look at
the shape. A caption with exactly one word swapped ("a red circle" -> "a red square") is a hard negative
(NegCLIP's idea, Yuksekgonul et al. 2023): it differs in that word alone.

Which words may replace which is learned from the training captions only (no attribute labels):
- two words are *interchangeable* when they occur between the same neighbours (the same (previous, next)
  word pair) often enough: "red" and "blue" both sit between "small" and "circle";
- two interchangeable words are *synonyms*, and never swapped, when images are often described by both in
  different captions but never in the same one (one caption says "big", another of the same image "large");
- words in more than half of the captions ("a", "the") are function words and never swapped;
- a swap must keep the caption's word pairs ones the training captions use (no "circle and the right"),
  so that a discriminator cannot tell a negative by its grammar alone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import combinations

import torch
from torch import Tensor

from ganforge.families.text2image.words import Vocabulary, tokenize

START, END = "<s>", "</s>"


def _contexts(captions: Sequence[Sequence[str]]) -> dict[str, Counter]:
    """Every word's (previous, next) neighbour pairs, counted over all captions."""
    found: dict[str, Counter] = defaultdict(Counter)
    for caps in captions:
        for caption in caps:
            words = [START, *tokenize(caption), END]
            for i in range(1, len(words) - 1):
                found[words[i]][(words[i - 1], words[i + 1])] += 1
    return found


def _separate_mentions(captions: Sequence[Sequence[str]], pairs: set[tuple[str, str]]) -> Counter:
    """For each candidate pair, the number of images whose captions use both words but never in one caption."""
    counts: Counter = Counter()
    for caps in captions:
        sets = [set(tokenize(c)) for c in caps]
        union = set().union(*sets) if sets else set()
        for a, b in pairs:
            if a in union and b in union and not any(a in s and b in s for s in sets):
                counts[(a, b)] += 1
    return counts


class WordSwaps:
    """The swap table [V, K] (0 pads) and the word pairs seen in training [V, V] (index 0 = start/end)."""

    def __init__(self, table: Tensor, bigrams: Tensor) -> None:
        self.table, self.bigrams = table, bigrams

    @classmethod
    def from_captions(cls, captions: Sequence[Sequence[str]], vocab: Vocabulary) -> WordSwaps:
        """Learned from every image's captions (see the module docstring)."""
        return cls(swap_table(captions, vocab), seen_bigrams(captions, vocab))

    def __call__(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        return swap_one_word(ids, lengths, self.table, self.bigrams)

    def every_word(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """One negative per swappable word of each caption (see ``swap_each_word``)."""
        return swap_each_word(ids, lengths, self.table, self.bigrams)


def seen_bigrams(captions: Sequence[Sequence[str]], vocab: Vocabulary) -> Tensor:
    """[V, V] bool: word j follows word i in some training caption (index 0 stands for start and end)."""
    seen = torch.zeros(len(vocab), len(vocab), dtype=torch.bool)
    for caps in captions:
        for caption in caps:
            ids = [0, *(vocab.index.get(w, 1) for w in tokenize(caption)), 0]
            seen[ids[:-1], ids[1:]] = True
    return seen


def swap_table(captions: Sequence[Sequence[str]], vocab: Vocabulary, min_overlap: float = 0.2,
               synonym_share: float = 0.05, function_share: float = 0.5) -> Tensor:
    """[V, K] word indices each word may be swapped for (0 pads), from every image's captions.

    ``min_overlap``: share of the rarer word's contexts (by count) that the two words must share.
    ``synonym_share``: pairs whose words describe more than this share of the rarer word's images in
    separate captions (and never together) are synonyms and are not swapped.
    """
    contexts = _contexts(captions)
    n_captions = sum(len(caps) for caps in captions)
    in_captions = Counter(w for caps in captions for c in caps for w in set(tokenize(c)))
    words = [w for w in vocab.words[2:] if w in contexts and in_captions[w] <= function_share * n_captions]
    totals = {w: sum(contexts[w].values()) for w in words}
    pairs = set()
    for a, b in combinations(words, 2):
        shared = sum(min(n, contexts[b][ctx]) for ctx, n in contexts[a].items() if ctx in contexts[b])
        if shared >= min_overlap * min(totals[a], totals[b]):
            pairs.add((a, b))
    images_with = Counter(w for caps in captions for w in set().union(*(set(tokenize(c)) for c in caps)))
    separate = _separate_mentions(captions, pairs)
    subs: dict[int, list[int]] = defaultdict(list)
    for a, b in sorted(pairs):
        if separate[(a, b)] > synonym_share * min(images_with[a], images_with[b]):
            continue
        subs[vocab.index[a]].append(vocab.index[b])
        subs[vocab.index[b]].append(vocab.index[a])
    width = max((len(v) for v in subs.values()), default=1)
    table = torch.zeros(len(vocab), width, dtype=torch.int64)
    for word, others in subs.items():
        table[word, : len(others)] = torch.tensor(others)
    return table


def _valid_swaps(ids: Tensor, lengths: Tensor, table: Tensor, bigrams: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(ids with padding zeroed [B, L], candidates [B, L, K], valid [B, L, K]): the substitutes of every word
    that keep the caption's word pairs ones seen in training."""
    table, bigrams = table.to(ids.device), bigrams.to(ids.device)
    inside = torch.arange(ids.shape[1], device=ids.device)[None, :] < lengths[:, None]
    ids = ids.masked_fill(~inside, 0)
    before = torch.cat([torch.zeros_like(ids[:, :1]), ids[:, :-1]], dim=1)  # 0 = start
    after = torch.cat([ids[:, 1:], torch.zeros_like(ids[:, :1])], dim=1)  # 0 = end (padding)
    candidates = table[ids]  # [B, L, K]
    valid = ((candidates > 0) & inside[:, :, None] & bigrams[before[:, :, None], candidates]
             & bigrams[candidates, after[:, :, None]])
    return ids, candidates, valid


def swap_each_word(ids: Tensor, lengths: Tensor, table: Tensor, bigrams: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Every swappable word of every caption swapped, one at a time, for a random substitute: (negatives
    [N, L], their lengths [N], the caption row each came from [N]). A caption "a red circle on the left"
    gives "a blue circle ...", "a red square ...", "... on the right": every kind of word gets a hard
    negative in every step (a single random swap changes the shape word of only about a third of them).
    Uses the global RNG (saved in checkpoints)."""
    ids, candidates, valid = _valid_swaps(ids, lengths, table, bigrams)
    score = torch.rand(valid.shape, device=ids.device).masked_fill(~valid, -1.0)
    k = score.argmax(dim=2)  # [B, L]: a random valid substitute per position
    rows, where = valid.any(dim=2).nonzero(as_tuple=True)
    out = ids[rows].clone()
    out[torch.arange(rows.shape[0], device=ids.device), where] = candidates[rows, where, k[rows, where]]
    return out, lengths[rows], rows


def swap_one_word(ids: Tensor, lengths: Tensor, table: Tensor, bigrams: Tensor) -> tuple[Tensor, Tensor]:
    """(captions [B, L] with one word replaced by a substitute that keeps seen word pairs, mask [B] of the
    captions that changed). Uses the global RNG (saved in checkpoints): training stays exactly resumable."""
    ids, candidates, valid = _valid_swaps(ids, lengths, table, bigrams)
    score = torch.rand(valid.shape, device=ids.device).masked_fill(~valid, -1.0).flatten(1)
    best = score.argmax(dim=1)
    where, k = best // candidates.shape[2], best % candidates.shape[2]
    rows = torch.arange(ids.shape[0], device=ids.device)
    changed = valid.flatten(1).any(dim=1)
    out = ids.clone()
    out[rows, where] = torch.where(changed, candidates[rows, where, k], ids[rows, where])
    return out, changed
