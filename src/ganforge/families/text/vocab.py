"""Word-level tokenization and the vocabulary (built on the training split only).

Token ids 0..3 are special: ``<pad>`` (after the end), ``<bos>`` (the first input), ``<eos>`` (the end)
and ``<unk>`` (a word outside the vocabulary). A sequence is ``max_len`` ids: the words, ``<eos>`` and
``<pad>`` up to the length (oracle sequences are all words, with no ``<eos>``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[^\w\s]|_+", re.UNICODE)
_NO_SPACE_BEFORE = {".", ",", "!", "?", ";", ":", ")", "]", "}", "%", "'s", "n't"}
_NO_SPACE_AFTER = {"(", "[", "{", "$", "#"}


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Words (with inner apostrophes) and single punctuation marks: ``"Don't panic!"`` ->
    ``["don't", "panic", "!"]``."""
    return _WORD.findall(text.lower() if lowercase else text)


def detokenize(words: Sequence[str]) -> str:
    """Words joined by spaces, without a space before closing punctuation or after an opening one."""
    out = ""
    for i, word in enumerate(words):
        if i and word not in _NO_SPACE_BEFORE and words[i - 1] not in _NO_SPACE_AFTER:
            out += " "
        out += word
    return out


class Vocabulary:
    """Words <-> ids; the four special tokens come first."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = list(SPECIALS) + [w for w in words if w not in SPECIALS]
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def build(cls, examples: Iterable[Sequence[str]], max_size: int, min_count: int = 1) -> Vocabulary:
        """The ``max_size`` (specials included) most frequent words seen at least ``min_count`` times;
        ties are broken alphabetically, so the vocabulary does not depend on example order."""
        counts = Counter(w for words in examples for w in words)
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(ranked[: max(0, max_size - len(SPECIALS))])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, words: Sequence[str]) -> tuple[list[int], list[str]]:
        """Ids of ``words`` and the words that were not in the vocabulary (mapped to ``<unk>``)."""
        ids = [self.index.get(w, UNK) for w in words]
        return ids, [w for w, i in zip(words, ids, strict=True) if i == UNK and w != "<unk>"]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Words of ``ids`` up to the first ``<eos>``; padding and ``<bos>`` are dropped."""
        words = []
        for i in ids:
            if i == EOS:
                break
            if i not in (PAD, BOS):
                words.append(self.words[i] if 0 <= i < len(self.words) else "<unk>")
        return words


def to_rows(examples: Sequence[Sequence[int]], max_len: int, end_token: bool = True) -> torch.Tensor:
    """Id lists -> a [N, max_len] int64 tensor: each row the ids (cut to fit), ``<eos>``, then ``<pad>``."""
    rows = torch.full((len(examples), max_len), PAD, dtype=torch.int64)
    for r, ids in enumerate(examples):
        ids = list(ids)[: max_len - 1 if end_token else max_len]
        if end_token:
            ids.append(EOS)
        rows[r, : len(ids)] = torch.tensor(ids, dtype=torch.int64)
    return rows
