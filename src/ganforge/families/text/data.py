"""The text data kinds: ``oracle`` (random LSTM), ``fortunes`` (Debian's fortunes package) and
``text:PATH`` (a UTF-8 file, one example per line), as tokenized train/test rows and a vocabulary.

Splits are a fixed function of the data (a permutation seeded by 0), so every training seed sees the same
held-out examples. Bad input is a one-line GanforgeError; lines cut to ``max_len`` are counted in one
warning line.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

from ganforge.errors import GanforgeError
from ganforge.families.text.config import TextDataConfig
from ganforge.families.text.oracle import OFFSET, Oracle, oracle_data
from ganforge.families.text.vocab import Vocabulary, to_rows, tokenize

FORTUNES_DIR = Path("/usr/share/games/fortunes")
# Collections of pictures or non-English text, not sentences.
FORTUNES_SKIP = {"art", "ascii-art", "translate-me"}
SPLIT_SEED = 0
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(A-Z0-9])")

DATA_KINDS = {
    "oracle": "SeqGAN benchmark: a random LSTM is the true distribution (data.oracle.*: seed, vocab, length)",
    "fortunes": f"English sentences of Debian's fortunes package ({FORTUNES_DIR}; apt-get install fortunes)",
    "text:PATH": "any UTF-8 text file, one example per line (word vocabulary from its train split)",
}


@dataclass
class TextData:
    """Tokenized data: [N, max_len] rows of ids for train and test, the vocabulary and what made them."""

    kind: str
    vocab: Vocabulary
    train: Tensor
    test: Tensor
    end_token: bool  # False for oracle data: fixed-length sequences without <eos>
    oracle: Oracle | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def max_len(self) -> int:
        return int(self.train.shape[1])


class RowDataset(Dataset):
    """The rows of a [N, L] tensor, one example each."""

    def __init__(self, rows: Tensor) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> Tensor:
        return self.rows[index]


def collate_rows(rows: list[Tensor]) -> Tensor:
    """A list of [L] rows -> one [B, L] batch."""
    return torch.stack(rows)


def build_text_data(spec: TextDataConfig) -> TextData:
    """The data ``spec.name`` names; a GanforgeError naming the problem and the fix when unusable."""
    name = spec.name
    if name == "oracle":
        return _oracle(spec)
    if name == "fortunes":
        return _from_examples("fortunes", read_fortunes(FORTUNES_DIR, spec), spec, {"source": str(FORTUNES_DIR)})
    if name.startswith("text:"):
        path = Path(name[len("text:") :]).expanduser()
        lines = read_text_file(path)
        return _from_examples("text", lines, spec, {"source": str(path), "sha256": _sha256(path)})
    raise GanforgeError(f"unknown text data '{name}': use oracle, fortunes or text:PATH (one example per line)")


def _oracle(spec: TextDataConfig) -> TextData:
    o = spec.oracle
    oracle, train, test = oracle_data(o)
    words = [f"w{i}" for i in range(o.vocab_size)]
    vocab = Vocabulary(words)
    assert len(vocab) == o.vocab_size + OFFSET
    info = {"oracle": o.model_dump(), "train_examples": len(train), "test_examples": len(test)}
    return TextData("oracle", vocab, train, test, end_token=False, oracle=oracle, info=info)


def read_text_file(path: Path) -> list[str]:
    """The non-blank lines of a UTF-8 file; an error naming the first line that is not UTF-8."""
    if not path.is_file():
        raise GanforgeError(f"text file not found: {path} (data.name=text:PATH takes one example per line)")
    raw = path.read_bytes()
    lines = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            raise GanforgeError(f"{path}: line {number} is not UTF-8 (byte {exc.start + 1} of the line is "
                                f"0x{line[exc.start]:02x}); save the file as UTF-8") from None
        if text:
            lines.append(text)
    if not lines:
        raise GanforgeError(f"{path} is empty: it needs at least 2 non-blank lines, one example each")
    return lines


def read_fortunes(folder: Path, spec: TextDataConfig) -> list[str]:
    """Sentences of the fortunes (attribution lines dropped) with ``min_len``..``max_len - 1`` words."""
    if not folder.is_dir():
        raise GanforgeError(f"no fortunes in {folder}: install them with `apt-get install fortunes` "
                            "(or train on --data text:PATH)")
    sentences: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.suffix or path.name in FORTUNES_SKIP or not path.is_file():
            continue
        utf8 = path.with_name(path.name + ".u8")
        text = (utf8 if utf8.is_file() else path).read_bytes().decode("utf-8", errors="replace")
        for fortune in text.split("\n%\n"):
            body = " ".join(line.strip() for line in fortune.splitlines() if not line.strip().startswith("--"))
            for sentence in _SENTENCE_END.split(" ".join(body.split())):
                n = len(tokenize(sentence, spec.lowercase))
                if spec.min_len <= n <= spec.max_len - 1 and "\ufffd" not in sentence:
                    sentences.append(sentence)
    if not sentences:
        raise GanforgeError(f"found no sentences in {folder}; is the fortunes package installed?")
    return sentences


def _from_examples(kind: str, lines: list[str], spec: TextDataConfig, info: dict[str, Any]) -> TextData:
    if len(lines) < 2:
        raise GanforgeError(f"{info['source']} has {len(lines)} example; it needs at least 2 (one line each)")
    order = torch.randperm(len(lines), generator=torch.Generator().manual_seed(SPLIT_SEED)).tolist()
    lines = [lines[i] for i in order][: spec.max_examples]
    n_test = min(max(1, round(len(lines) * spec.test_fraction)), len(lines) - 1)
    tokens = [tokenize(line, spec.lowercase) for line in lines]
    test_words, train_words = tokens[:n_test], tokens[n_test:]
    vocab = Vocabulary.build(train_words, spec.vocab_size, spec.min_count)
    cut = sum(len(words) > spec.max_len - 1 for words in tokens)
    if cut:
        print(f"warning: {cut} of {len(lines)} examples in {info['source']} were longer than "
              f"{spec.max_len - 1} tokens and were cut (raise data.max_len to keep them)", file=sys.stderr)
    train = to_rows([vocab.encode(w)[0] for w in train_words], spec.max_len)
    test = to_rows([vocab.encode(w)[0] for w in test_words], spec.max_len)
    info = {**info, "train_examples": len(train), "test_examples": len(test), "cut_examples": cut,
            "vocab_size": len(vocab), "split_seed": SPLIT_SEED}
    return TextData(kind, vocab, train, test, end_token=True, info=info)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
