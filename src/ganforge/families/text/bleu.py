"""BLEU against references and Self-BLEU, as the text-GAN literature computes them (Texygen, "Language
GANs Falling Short"): the mean over hypotheses of NLTK's ``sentence_bleu`` with every reference sentence
as a reference, uniform weights over 1..N-grams and smoothing method 1 (a zero n-gram count becomes
0.1 / number of n-grams). Self-BLEU scores each sample against all the *other* samples (lower = more
diverse). Written here without NLTK; tests check hand-computed values.

A hypothesis' n-gram counts are clipped by the largest count of that n-gram in any one reference, and
the brevity penalty uses the reference length closest to the hypothesis length (the shorter on ties).
Precomputing, for every n-gram, its largest and second-largest count over the references makes the whole
corpus cost O(total n-grams) instead of O(hypotheses x references).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

Sentence = Sequence[str]
EPSILON = 0.1  # NLTK SmoothingFunction().method1


def ngrams(words: Sentence, n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


class ReferenceSet:
    """References prepared for clipping: per n-gram the top two counts in any one reference, and lengths."""

    def __init__(self, references: Sequence[Sentence], max_n: int) -> None:
        self.max_n = max_n
        self.top: list[dict[tuple[str, ...], tuple[int, int]]] = [{} for _ in range(max_n)]
        self.lengths: Counter[int] = Counter(len(r) for r in references)
        for ref in references:
            for n in range(1, max_n + 1):
                table = self.top[n - 1]
                for gram, count in ngrams(ref, n).items():
                    first, second = table.get(gram, (0, 0))
                    table[gram] = (count, first) if count >= first else (first, max(second, count))

    def max_count(self, gram: tuple[str, ...], own: int = 0) -> int:
        """Largest count of ``gram`` in one reference; with ``own`` > 0, leaving out one reference that
        holds it ``own`` times (the hypothesis itself, for Self-BLEU)."""
        first, second = self.top[len(gram) - 1].get(gram, (0, 0))
        return second if own and own == first else first

    def closest_length(self, length: int, leave_out: bool = False) -> int:
        lengths = self.lengths.copy()
        if leave_out:
            lengths[length] -= 1
        candidates = [n for n, c in lengths.items() if c > 0]
        if not candidates:
            return 0
        return min(candidates, key=lambda n: (abs(n - length), n))


def sentence_bleu(hypothesis: Sentence, refs: ReferenceSet, max_n: int, leave_out: bool = False) -> float:
    """BLEU-``max_n`` of one hypothesis (``leave_out``: the references include it once; skip that copy)."""
    if not hypothesis:
        return 0.0
    log_sum = 0.0
    for n in range(1, max_n + 1):
        counts = ngrams(hypothesis, n)
        total = max(1, sum(counts.values()))
        clipped = sum(min(c, refs.max_count(g, c if leave_out else 0)) for g, c in counts.items())
        if n == 1 and clipped == 0:
            return 0.0  # NLTK: no unigram in common scores 0
        precision = clipped / total if clipped else EPSILON / total
        log_sum += math.log(precision) / max_n
    c, r = len(hypothesis), refs.closest_length(len(hypothesis), leave_out)
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return brevity * math.exp(log_sum)


def bleu(hypotheses: Sequence[Sentence], references: Sequence[Sentence], max_n: int = 4) -> float:
    """Mean BLEU-``max_n`` of the hypotheses, each against all references (quality; higher is better)."""
    if not hypotheses:
        return 0.0
    refs = ReferenceSet(references, max_n)
    return sum(sentence_bleu(h, refs, max_n) for h in hypotheses) / len(hypotheses)


def self_bleu(samples: Sequence[Sentence], max_n: int = 4) -> float:
    """Mean BLEU-``max_n`` of each sample against all the others (diversity; lower is more diverse)."""
    if len(samples) < 2:
        return 0.0
    refs = ReferenceSet(samples, max_n)
    return sum(sentence_bleu(s, refs, max_n, leave_out=True) for s in samples) / len(samples)
