"""A trained text-to-image run loaded for inference, and drawing pictures for prompts."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganforge.families.text2image.config import Text2ImageConfig
from ganforge.families.text2image.nets import Generator, TextEncoder
from ganforge.families.text2image.words import Vocabulary, encode_prompts
from ganforge.viz import save_grid, to_pil, to_uint8

# Used when no prompt is given, and for the training preview: seen and held-out combinations.
DEFAULT_PROMPTS = (
    "a large red circle on the left",
    "a small blue square at the top right",
    "a green triangle at the bottom",
    "a large white cross in the center",
    "a small purple circle at the bottom left",
    "a yellow square on the right",
    "a large yellow circle at the top",  # held out: yellow circle
    "a small blue cross on the left",  # held out: blue cross
)


@dataclass
class TextImageModel:
    generator: nn.Module
    encoder: nn.Module
    vocab: Vocabulary
    max_words: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device


@dataclass
class PromptedImages:
    """Generated images [N, 3, H, W] in [-1, 1] and the prompt each was drawn for."""

    images: torch.Tensor
    prompts: list[str]


def build_networks(config: Text2ImageConfig, vocab_size: int) -> tuple[Generator, TextEncoder]:
    m = config.model
    generator = Generator(m.z_dim, m.text_dim, m.g_width, config.data.size, m.g_channels)
    encoder = TextEncoder(vocab_size, m.text_dim, m.word_dim)
    return generator, encoder


def load_text_image_model(config: Text2ImageConfig, state: dict[str, Any], device: torch.device,
                          ema: bool = True) -> TextImageModel:
    vocab = Vocabulary(state["vocab"])
    generator, encoder = build_networks(config, len(vocab))
    recipe = state["recipe"]
    use_ema = ema and recipe.get("ema") is not None
    generator.load_state_dict(recipe["ema"]["model"] if use_ema else recipe["generator"])
    encoder.load_state_dict(recipe["encoder_ema"]["model"] if use_ema else recipe["encoder"])
    return TextImageModel(generator.to(device).eval(), encoder.to(device).eval(), vocab, config.model.max_words)


@torch.no_grad()
def draw(generator: nn.Module, encoder: nn.Module, ids: torch.Tensor, lengths: torch.Tensor, seed: int,
         batch: int = 256) -> torch.Tensor:
    """One image per caption (word indices [N, L], lengths [N]); the noise comes from ``seed``. On the CPU."""
    device = next(generator.parameters()).device
    noise = torch.randn(ids.shape[0], generator.z_dim, generator=torch.Generator().manual_seed(seed))
    out = []
    for start in range(0, ids.shape[0], batch):
        part = slice(start, start + batch)
        sentence = encoder(ids[part].to(device), lengths[part].to(device))
        out.append(generator(noise[part].to(device), sentence).float().cpu())
    return torch.cat(out)


def generate(model: TextImageModel, prompts: list[str], seed: int, warn: bool = True) -> PromptedImages:
    """One image per prompt (checked: not empty, not too long; unknown words named in a warning)."""
    ids, lengths, _ = encode_prompts(prompts, model.vocab, model.max_words, warn)
    with model.lock:
        images = draw(model.generator, model.encoder, ids, lengths, seed)
    return PromptedImages(images, list(prompts))


def slug(prompt: str, limit: int = 48) -> str:
    """A file-name-safe short form of a prompt: "a red circle" -> "a-red-circle"."""
    return re.sub(r"[^a-z0-9]+", "-", prompt.lower()).strip("-")[:limit].rstrip("-") or "prompt"


def write_images(samples: PromptedImages, out: Path, kind: str) -> str:
    """A grid (``.png``) or one PNG per image named after its prompt (a folder)."""
    if kind == ".png":
        save_grid(samples.images, out)
        return f"wrote a grid of {len(samples.prompts)} image(s) to {out}"
    out.mkdir(parents=True, exist_ok=True)
    for i, (image, prompt) in enumerate(zip(to_uint8(samples.images), samples.prompts, strict=True)):
        to_pil(image).save(out / f"{i:05d}-{slug(prompt)}.png")
    return f"wrote {len(samples.prompts)} image(s) to {out}/ (named after their prompts)"
