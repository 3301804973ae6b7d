"""Words: splitting captions, the vocabulary (built from the training captions), and prompts turned into
word indices, with the checks a user's prompt gets (empty, too long, unknown words)."""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence

import torch

from ganforge.errors import GanforgeError

PAD, UNKNOWN = "<pad>", "<unk>"
MAX_PROMPT_CHARS = 500
_WORD = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-case words (letters and digits); punctuation separates words and is dropped."""
    return _WORD.findall(text.lower())


class Vocabulary:
    """Word <-> index; index 0 pads, index 1 stands for any word outside the vocabulary."""

    def __init__(self, words: Sequence[str]) -> None:
        self.words = [PAD, UNKNOWN, *[w for w in words if w not in (PAD, UNKNOWN)]]
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    @classmethod
    def from_captions(cls, captions: Iterable[str], max_size: int = 5000) -> Vocabulary:
        """The ``max_size`` most frequent words of ``captions`` (ties alphabetical), sorted."""
        counts = Counter(w for caption in captions for w in tokenize(caption))
        common = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: max_size - 2]
        return cls(sorted(w for w, _ in common))

    def encode(self, words: Sequence[str], length: int) -> list[int]:
        """Indices of ``words`` padded (or cut) to ``length``."""
        ids = [self.index.get(w, 1) for w in words[:length]]
        return ids + [0] * (length - len(ids))

    def unknown(self, words: Sequence[str]) -> list[str]:
        return sorted({w for w in words if w not in self.index})


def check_prompt(prompt: str, max_words: int) -> list[str]:
    """The words of a user's prompt; a one-line GanforgeError when it is empty or too long."""
    if len(prompt) > MAX_PROMPT_CHARS:
        raise GanforgeError(f"the prompt has {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS} "
                            f"(and {max_words} words): shorten it")
    words = tokenize(prompt)
    if not words:
        raise GanforgeError("the prompt is empty; describe the picture, e.g. --prompt \"a red circle on the left\"")
    if len(words) > max_words:
        raise GanforgeError(f"the prompt has {len(words)} words; this model reads at most {max_words}: shorten it")
    return words


def encode_prompts(prompts: Sequence[str], vocab: Vocabulary, max_words: int,
                   warn: bool = True) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """(word indices [N, max_words], lengths [N], unknown words) of checked prompts. Unknown words are
    mapped to ``<unk>`` and, with ``warn``, named in one warning line on stderr."""
    split = [check_prompt(p, max_words) for p in prompts]
    unknown = sorted({w for words in split for w in vocab.unknown(words)})
    if unknown and warn:
        shown = ", ".join(unknown[:10]) + (" ..." if len(unknown) > 10 else "")
        print(f"warning: {len(unknown)} word(s) not in the model's vocabulary, read as unknown: {shown}",
              file=sys.stderr)
    ids = torch.tensor([vocab.encode(words, max_words) for words in split], dtype=torch.int64)
    lengths = torch.tensor([len(words) for words in split], dtype=torch.int64)
    return ids, lengths, unknown
