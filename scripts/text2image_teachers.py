"""Which shape do the run's own networks read in its pictures, and which does the shipped classifier read?

    OMP_NUM_THREADS=1 python scripts/text2image_teachers.py RUN [--seed 0]

For the 432 evaluation prompts (one picture each, the raw and the EMA generator), the picture's shape as
read by the matching CNN and by D's embedding (the caption, among the four with its shape word replaced,
whose sentence lies nearest) and by the attribute classifier; the same two networks on the real renderings;
the classifier's shape accuracy on small and large shapes; and its confusion matrix (asked x read). When
the run's networks read the asked shape in the fakes far more often than the classifier does, the generator
satisfies them with pictures the classifier does not accept: their pull on the generator is spent.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.families.text2image.classifier import classify, load_classifier
from ganforge.families.text2image.evaluation import prompt_set
from ganforge.families.text2image.model import build_networks
from ganforge.families.text2image.nets import Discriminator, ImageMatcher
from ganforge.families.text2image.scenes import SHAPES
from ganforge.families.text2image.words import Vocabulary, encode_prompts
from ganforge.runs import load_run_config


def shape_reading(embed: Callable[[Tensor], Tensor], images: Tensor, sentences: list[Tensor]) -> Tensor:
    """Index of the shape whose caption variant (normalized sentences [N, D], one tensor per shape) is nearest."""
    with torch.no_grad():
        pictures = F.normalize(embed(images), dim=1)
    return torch.stack([(pictures * s).sum(dim=1) for s in sentences], dim=1).argmax(dim=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = load_run_config(args.run)
    state = torch.load(args.run / "checkpoints" / "last.pt", weights_only=True)
    vocab, recipe, m = Vocabulary(state["vocab"]), state["recipe"], config.model
    if "matcher" not in recipe:
        raise SystemExit("this run has no matching CNN (model.matcher_width=0)")
    generator, encoder = build_networks(config, len(vocab))
    teacher_encoder = build_networks(config, len(vocab))[1]  # the raw encoder, whose sentences D and the CNN learn
    teacher_encoder.load_state_dict(recipe["encoder"])
    teacher_encoder.eval()
    matcher = ImageMatcher(m.text_dim, m.matcher_width, config.data.size)
    discriminator = Discriminator(m.text_dim, m.d_width, config.data.size)
    matcher.load_state_dict(recipe["matcher"])
    discriminator.load_state_dict(recipe["discriminator"])
    prompts, real, labels, _ = prompt_set(1, size=config.data.size)
    asked, small = labels[:, 1], labels[:, 2] == 0
    classifier = load_classifier("cpu", input_size=config.data.size)
    nets = {"matching CNN": matcher, "D embedding": lambda x: discriminator.embed(discriminator.features(x))}
    variants = []
    with torch.no_grad():
        for shape in SHAPES:
            words = [p.replace(SHAPES[int(k)], shape) for p, k in zip(prompts, asked.tolist(), strict=True)]
            ids, lengths, _ = encode_prompts(words, vocab, m.max_words, warn=False)
            variants.append(F.normalize(teacher_encoder(ids, lengths), dim=1))
    print(f"{args.run} (step {state['step']}): share of pictures whose shape is read as the asked one")
    for which in ("raw", "ema"):
        generator.load_state_dict(recipe["ema"]["model"] if which == "ema" else recipe["generator"])
        encoder.load_state_dict(recipe["encoder_ema"]["model"] if which == "ema" else recipe["encoder"])
        for net in (generator, encoder, matcher, discriminator):
            net.eval()
        with torch.no_grad():
            ids, lengths, _ = encode_prompts(prompts, vocab, m.max_words, warn=False)
            noise = torch.randn(len(prompts), generator.z_dim, generator=torch.Generator().manual_seed(args.seed))
            fake = generator(noise, encoder(ids, lengths))
            read = classify(classifier, fake)["shape"]
        parts = [f"{name}: fakes {float((shape_reading(net, fake, variants) == asked).float().mean()):.3f}, "
                 f"real {float((shape_reading(net, real, variants) == asked).float().mean()):.3f}"
                 for name, net in nets.items()]
        hits = (read == asked).float()
        print(f"{which}: {'; '.join(parts)}; classifier: fakes {float(hits.mean()):.3f} "
              f"(small {float(hits[small].mean()):.3f}, large {float(hits[~small].mean()):.3f})")
        confusion = torch.zeros(len(SHAPES), len(SHAPES), dtype=torch.long)
        confusion.index_put_((asked, read), torch.ones_like(read), accumulate=True)
        print("  classifier confusion, asked (rows) x read (columns), " + " ".join(SHAPES))
        for shape, row in zip(SHAPES, confusion.tolist(), strict=True):
            print(f"  {shape:>8}: {row}")


if __name__ == "__main__":
    main()
