"""A trained text run ready for use: the generator and its vocabulary, and sampling with a seed, a
temperature and an optional prompt (words outside the vocabulary become ``<unk>``, and are reported)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ganforge.errors import GanforgeError
from ganforge.families.text.config import TextConfig
from ganforge.families.text.nets import LSTMGenerator
from ganforge.families.text.recipe import build_generator
from ganforge.families.text.sampling import draw
from ganforge.families.text.vocab import EOS, Vocabulary, detokenize, tokenize

MAX_TEMPERATURE = 10.0


@dataclass
class TextModel:
    """The generator of a run, its vocabulary and what it was trained on."""

    generator: LSTMGenerator
    vocab: Vocabulary
    config: TextConfig
    root: Path

    @property
    def end_token(self) -> bool:
        return self.generator.end_token


@dataclass
class TextSamples:
    """Sampled texts with their tokens and per-token log-probabilities, and notes for the user."""

    texts: list[str]
    tokens: list[list[str]]
    logprobs: list[list[float]]
    temperature: float
    seed: int
    prompt: str | None = None
    prompt_tokens: int = 0  # the first tokens of each sample are the prompt's (they have no log-probability)
    notes: list[str] = field(default_factory=list)

    def records(self) -> list[dict[str, Any]]:
        return [{"text": t, "tokens": w, "logprobs": [round(x, 5) for x in lp], "temperature": self.temperature,
                 "seed": self.seed, "prompt": self.prompt, "prompt_tokens": self.prompt_tokens}
                for t, w, lp in zip(self.texts, self.tokens, self.logprobs, strict=True)]


def load_text_model(config: TextConfig, state: dict[str, Any], device: torch.device, root: Path) -> TextModel:
    """The generator of a checkpoint (``recipe.generator``) with the vocabulary stored beside it."""
    info = state.get("text")
    if not isinstance(info, dict) or "vocab" not in info:
        raise GanforgeError(f"{root}: the checkpoint has no vocabulary; it was not written by a text run")
    vocab = Vocabulary(info["vocab"])  # the specials it starts with are added back
    generator = build_generator(config, len(vocab), int(info["max_len"]), bool(info["end_token"]))
    generator.load_state_dict(state["recipe"]["generator"])
    generator.to(device).eval()
    return TextModel(generator, vocab, config, root)


def check_temperature(temperature: float | None) -> float:
    t = 1.0 if temperature is None else float(temperature)
    if not 0 < t <= MAX_TEMPERATURE:
        raise GanforgeError(f"--temperature must be above 0 and at most {MAX_TEMPERATURE:g} (got {t:g}); "
                            "1 samples the model as trained, lower is safer, higher is more varied")
    return t


def encode_prompt(model: TextModel, prompt: str | None) -> tuple[list[int], list[str]]:
    """Prompt ids and a note per problem (unknown words mapped to ``<unk>``, a prompt cut to fit)."""
    if not prompt:
        return [], []
    words = tokenize(prompt, model.config.data.lowercase)
    if not words:
        raise GanforgeError(f"the prompt '{prompt}' holds no words")
    ids, unknown = model.vocab.encode(words)
    notes = []
    if unknown:
        shown = ", ".join(sorted(set(unknown))[:10])
        notes.append(f"{len(unknown)} prompt word(s) are not in the vocabulary and were read as <unk>: {shown}")
    room = model.generator.max_len - 1
    if len(ids) > room:
        notes.append(f"the prompt has {len(ids)} tokens; only its first {room} fit (data.max_len)")
        ids = ids[:room]
    return ids, notes


def sample_texts(model: TextModel, n: int, seed: int, temperature: float | None = None,
                 prompt: str | None = None) -> TextSamples:
    """``n`` texts for ``seed`` (same seed, same texts); each has at least one token of its own."""
    t = check_temperature(temperature)
    prefix, notes = encode_prompt(model, prompt)
    generator = torch.Generator(device=model.generator.banned.device).manual_seed(seed)
    rows, logps = draw(model.generator, n, t, generator, prefix, min_new=1 if model.end_token else 0)
    texts, tokens, logprobs = [], [], []
    for row, lp in zip(rows.tolist(), logps.tolist(), strict=True):
        end = next((i for i, tok in enumerate(row) if tok == EOS), len(row) - 1)  # the last token's position
        words = model.vocab.decode(row)
        texts.append(detokenize(words))
        tokens.append(words + (["<eos>"] if row[end] == EOS else []))
        logprobs.append(lp[len(prefix) : end + 1])  # the drawn tokens (the prompt's are not drawn)
    return TextSamples(texts, tokens, logprobs, t, seed, prompt, len(prefix), notes)
