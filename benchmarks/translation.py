"""Measure translation runs: colorization quality on held-out photos, and digit identity through CycleGAN.

    python benchmarks/translation.py colorize PIX2PIX_RUN [L1_ONLY_RUN] [--grid docs/images/colorize.png]
    python benchmarks/translation.py colorize RUN... --photos bundled   # runs trained without those photos
    python benchmarks/translation.py cyclegan CYCLEGAN_RUN

colorize: each held-out photo of ``colorize-photos`` (never in training; shorter side 256, whole photo,
non-square) is turned gray, colorized by each run with ``ganforge.apps.translate``, and compared with the
original: PSNR and SSIM (scikit-image, RGB, data range 255), colorfulness (Hasler & Suesstrunk 2003;
the original's is the target) and hue error (``ganforge.families.translation.color.hue_error``: the mean
circular difference of the Lab hue angle in degrees, weighted by the original's chroma so that gray pixels
do not count; a predicted pixel without visible chroma counts as 90, a random hue's mean error, so the
gray input scores 90 and a perfect colorization 0). The gray input itself is the floor. Optionally writes
a grid of input / outputs / target. ``--photos bundled`` scores the 5 bundled training photos instead (a
validation set for runs trained without them, e.g. on ``--data colorize:DIR``).

cyclegan: ``digit-styles`` A (scikit-learn 8x8 digits scaled to 28x28) and B (the embedded MNIST digits).
A->B: the digits-v1 classifier (trained on MNIST-style digits) reads G_AB(a); B->A: a logistic regression
trained on 1,000 of scikit-learn's 8x8 digits (accuracy on the other 797 printed) reads G_BA(b) scaled back
to 8x8. Each is shown next to the same classifier on the untranslated images.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.data import build_dataset
from ganforge.data.base import uint8_to_unit
from ganforge.families.translation.apply import translate_tensor
from ganforge.families.translation.color import hue_error
from ganforge.families.translation.data import build_pair_dataset, held_out_photos, to_gray
from ganforge.families.translation.photos import COLORIZE_TRAIN, load_photo, scale_short_side
from ganforge.runs import load_run
from ganforge.viz import save_grid, to_uint8


def load_translator(run: str, direction: str = "AtoB") -> torch.nn.Module:
    return load_run(run).model.network(direction)


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colorfulness of an RGB uint8 image [H, W, 3]."""
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def image_scores(output: np.ndarray, target: np.ndarray) -> dict[str, float]:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    def chw(image: np.ndarray) -> Tensor:
        return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)

    return {
        "psnr": peak_signal_noise_ratio(target, output, data_range=255),
        "ssim": structural_similarity(target, output, channel_axis=2, data_range=255),
        "colorfulness": colorfulness(output),
        "hue": hue_error(chw(output), chw(target)),
    }


def hwc(image: Tensor) -> np.ndarray:
    """uint8 [C, H, W] (1 or 3 channels) -> RGB uint8 [H, W, 3]."""
    return image.expand(3, -1, -1).permute(1, 2, 0).numpy()


def bundled_training_photos() -> dict[str, Tensor]:
    """The bundled photos that ``colorize-photos`` trains on, shorter side 256 (a validation set for runs
    trained on other photos)."""
    return {name.split(":")[-1]: scale_short_side(load_photo(name)) for name in COLORIZE_TRAIN}


def colorize(runs: list[str], grid: str | None, photo_set: str = "held-out") -> None:
    photos = held_out_photos() if photo_set == "held-out" else bundled_training_photos()
    networks = {run: load_translator(run) for run in runs}
    rows: dict[str, list[dict[str, float]]] = {"gray input (floor)": []}
    rows.update({run: [] for run in runs})
    target_colorfulness, tiles = [], []
    for photo in photos.values():
        gray = to_gray(photo)
        target = hwc(photo)
        target_colorfulness.append(colorfulness(target))
        rows["gray input (floor)"].append(image_scores(hwc(gray), target))
        tile = [gray.expand(3, -1, -1)]
        for run, network in networks.items():
            output = to_uint8(translate_tensor(network, uint8_to_unit(gray.unsqueeze(0)))[0])
            rows[run].append(image_scores(hwc(output), target))
            tile.append(output)
        tile.append(photo)
        tiles.append(tile)
    print(f"{photo_set} photos: {', '.join(photos)} (shorter side 256); target colorfulness "
          f"{np.mean(target_colorfulness):.1f}")
    print("| colorizer | PSNR (dB) | SSIM | colorfulness | hue error (degrees) |")
    print("|---|---|---|---|---|")
    for name, scores in rows.items():
        mean = {k: np.mean([s[k] for s in scores]) for k in scores[0]}
        print(f"| {name} | {mean['psnr']:.2f} | {mean['ssim']:.3f} | {mean['colorfulness']:.1f} | "
              f"{mean['hue']:.1f} |")
    if grid:
        side = 192
        cells = [F.interpolate(t.unsqueeze(0).float(), size=(side, side), mode="area")[0] for row in tiles
                 for t in row]
        save_grid(uint8_to_unit(torch.stack(cells)), grid, nrow=len(tiles[0]))
        print(f"grid (rows: photos; columns: input, {', '.join(runs)}, target): {grid}")


def digits8_classifier():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    model = LogisticRegression(max_iter=2000).fit(x[:1000], y[:1000])
    print(f"8x8 classifier: {model.score(x[1000:], y[1000:]):.3f} on the 797 held-out 8x8 digits")
    return model


def to_digits8(images: Tensor) -> np.ndarray:
    """28x28 images in [-1, 1] -> the 8x8, 0..1 features of scikit-learn's digits (area average)."""
    small = F.adaptive_avg_pool2d((images + 1) / 2, 8)
    return small.flatten(1).numpy()


@torch.no_grad()
def cyclegan(run: str) -> None:
    from ganforge.metrics.digits_net import load_digits_net

    data = build_pair_dataset("digit-styles")
    a = uint8_to_unit(data.images[:, :1][:1797])  # one of each 8x8 digit
    a_labels = data.labels[:1797]
    digits = build_dataset("digits")
    b, b_labels = uint8_to_unit(digits.images[:2000]), digits.labels[:2000]
    g_ab, g_ba = load_translator(run, "AtoB"), load_translator(run, "BtoA")
    mnist_reader, small_reader = load_digits_net(), digits8_classifier()

    def read_b(images: Tensor, labels: Tensor) -> float:
        return (mnist_reader(images)["logits"].argmax(1) == labels).float().mean().item()

    def read_a(images: Tensor, labels: Tensor) -> float:
        return float((small_reader.predict(to_digits8(images)) == labels.numpy()).mean())

    print("| direction | classifier | untranslated | translated |")
    print("|---|---|---|---|")
    print(f"| A->B (8x8 style to MNIST style) | digits-v1 | {read_b(a, a_labels):.3f} | "
          f"{read_b(translate_tensor(g_ab, a), a_labels):.3f} |")
    print(f"| B->A (MNIST style to 8x8 style) | 8x8 logistic regression | {read_a(b, b_labels):.3f} | "
          f"{read_a(translate_tensor(g_ba, b), b_labels):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=["colorize", "cyclegan"])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--grid", help="colorize: write a grid of input / outputs / target here")
    parser.add_argument("--photos", choices=["held-out", "bundled"], default="held-out",
                        help="colorize: the held-out photos, or the 5 bundled training photos (for runs trained "
                        "without them)")
    args = parser.parse_args()
    if args.task == "colorize":
        colorize(args.runs, args.grid, args.photos)
    else:
        cyclegan(args.runs[0])


if __name__ == "__main__":
    main()
