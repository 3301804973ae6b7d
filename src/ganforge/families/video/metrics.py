"""Video metrics: FVD (``video-v1`` features), per-frame FID (``digits-v1`` on centre-of-mass crops),
temporal consistency and motion smoothness, with the reference clips that give them meaning.

Per clip, the digit's track is the intensity-weighted centre of mass of each frame (pixels). Then:

- ``temporal_consistency``: share of clips that show one digit moving continuously: the classifier gives
  the same digit in every frame, the track moves (mean speed >= ``min_speed``) and never jumps (every
  frame-to-frame step <= ``max_step``). A frame-shuffled clip jumps; a static clip does not move.
- ``motion_smoothness``: share of clips that move and whose mean jerk (|third difference| of the track)
  is <= ``max_jerk``. Jerk alone would favour a static clip (zero), hence the moving condition.
- ``confidence``: the classifier's mean top probability over frames (are the digits recognisable).
Speeds are in pixels per frame, scaled to a 32-pixel frame so the thresholds hold at every size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganforge.metrics.frechet import frechet_distance

MIN_SPEED = 0.25  # px/frame at 32 px: slower counts as not moving
MAX_STEP = 4.0  # px/frame at 32 px: a larger step between two frames is a jump
MAX_JERK = 1.0  # px/frame^3 at 32 px: mean jerk above this is not smooth
CROP_SCALE = 1.4  # crop side = this * the digit's side (28/64 of the frame)
CHUNK = 128  # clips per forward pass
METRIC_NAMES = ("fvd", "frame_fid", "temporal", "motion")
METRIC_DESCRIPTIONS = {
    "fvd": "Frechet video distance in video-v1 features (a small 3D-conv net trained on moving digits; not I3D)",
    "frame_fid": "FID of frames: digits-v1 features of each frame's digit, cropped at its centre of mass",
    "temporal": "share of clips with one digit, moving, never jumping (higher is better); also confidence",
    "motion": "share of moving clips with low jerk of the digit's centre of mass (higher is better)",
}


def centre_of_mass(clips: Tensor) -> Tensor:
    """Clips [N, T, C, H, W] in [-1, 1] -> centre of mass (x, y) in pixels [N, T, 2] (frame centre if blank)."""
    mass = clips.float().add(1).div(2).clamp(0, 1).mean(dim=2)  # [N, T, H, W]
    h, w = mass.shape[-2:]
    ys = torch.arange(h, dtype=mass.dtype, device=mass.device)
    xs = torch.arange(w, dtype=mass.dtype, device=mass.device)
    total = mass.sum(dim=(-2, -1))
    safe = total.clamp_min(1e-6)
    x = (mass.sum(dim=-2) * xs).sum(dim=-1) / safe
    y = (mass.sum(dim=-1) * ys).sum(dim=-1) / safe
    blank = total < 1e-3
    x = torch.where(blank, torch.full_like(x, (w - 1) / 2), x)
    y = torch.where(blank, torch.full_like(y, (h - 1) / 2), y)
    return torch.stack([x, y], dim=-1)


def crop_digits(clips: Tensor, centres: Tensor, out: int = 28) -> Tensor:
    """Square crops (side ``CROP_SCALE`` * 28/64 of the frame) around each frame's centre -> gray
    [N * T, 1, out, out] in [-1, 1], background outside the frame."""
    n, t, c, h, w = clips.shape
    frames = clips.float().mean(dim=2, keepdim=True).flatten(0, 1).add(1)  # background 0 for zero padding
    side = CROP_SCALE * 28 / 64
    centre = centres.flatten(0, 1)
    theta = frames.new_zeros(n * t, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = side
    theta[:, 0, 2] = (2 * centre[:, 0] + 1) / w - 1
    theta[:, 1, 2] = (2 * centre[:, 1] + 1) / h - 1
    grid = F.affine_grid(theta, [n * t, 1, out, out], align_corners=False)
    return F.grid_sample(frames, grid, mode="bilinear", padding_mode="zeros", align_corners=False).sub(1)


@dataclass
class Measures:
    """What one set of clips gives: features for the distances and per-set scores."""

    video_features: Tensor | None
    frame_features: Tensor | None
    scores: dict[str, float]


@dataclass
class FrameFacts:
    """Per-frame facts of N clips of T frames: centres [N, T, 2] (pixels), and from the digit classifier
    predicted digits [N, T], top probabilities [N, T] and features [N, T, F] (None without it)."""

    centres: Tensor
    predicted: Tensor | None = None
    confidence: Tensor | None = None
    features: Tensor | None = None

    def reordered(self, order: Tensor) -> FrameFacts:
        """The facts with each clip's frames in ``order`` [N, T] (a shuffled or a static clip)."""
        rows = torch.arange(order.shape[0])[:, None]

        def pick(values: Tensor | None) -> Tensor | None:
            return None if values is None else values[rows, order]

        return FrameFacts(self.centres[rows, order], pick(self.predicted), pick(self.confidence), pick(self.features))


def frame_facts(clips: Tensor, digits_net: torch.nn.Module | None) -> FrameFacts:
    """Centres of mass and, with ``digits_net``, the classifier's reading of each frame's crop."""
    centres, predicted, confidence, features = [], [], [], []
    with torch.no_grad():
        for part in clips.split(CHUNK):
            n, t = part.shape[:2]
            centre = centre_of_mass(part)
            centres.append(centre)
            if digits_net is not None:
                out = digits_net(crop_digits(part, centre))
                probs = out["logits"].softmax(dim=1)
                predicted.append(probs.argmax(dim=1).view(n, t))
                confidence.append(probs.amax(dim=1).view(n, t))
                features.append(out["features"].double().view(n, t, -1))
    if digits_net is None:
        return FrameFacts(torch.cat(centres))
    return FrameFacts(torch.cat(centres), torch.cat(predicted), torch.cat(confidence), torch.cat(features))


def video_features(clips: Tensor, video_net: torch.nn.Module) -> Tensor:
    """``video-v1`` features [N, 128] (float64)."""
    with torch.no_grad():
        return torch.cat([video_net(part)["features"].double() for part in clips.split(CHUNK)])


def track_scores(centres: Tensor, size: int) -> dict[str, Tensor]:
    """Per-clip motion facts from tracks [N, T, 2] (pixels), scaled to a 32-pixel frame."""
    track = centres * (32.0 / size)
    step = track.diff(dim=1).norm(dim=-1)  # [N, T-1]
    jerk = track.diff(n=3, dim=1).norm(dim=-1).mean(dim=1) if track.shape[1] >= 4 else torch.zeros(len(track))
    moving = step.mean(dim=1) >= MIN_SPEED
    return {"moving": moving, "continuous": step.amax(dim=1) <= MAX_STEP, "jerk": jerk, "speed": step.mean(dim=1),
            "smooth": moving & (jerk <= MAX_JERK)}


def summarize(facts: FrameFacts, features: Tensor | None, metrics: list[str], size: int,
              digits: Tensor | None = None) -> Measures:
    """Scores of one set of clips from its per-frame facts (and its video features, for FVD). With ``digits``
    (the digit each clip shows or was asked to show, [N]), also the share of frames read as that digit."""
    track = track_scores(facts.centres, size)
    scores: dict[str, float] = {}
    if "temporal" in metrics and facts.predicted is not None and facts.confidence is not None:
        identity = (facts.predicted == facts.predicted[:, :1]).all(dim=1)
        consistent = identity & track["moving"] & track["continuous"]
        scores.update(temporal_consistency=_share(consistent), identity_constant=_share(identity),
                      moving=_share(track["moving"]), continuous=_share(track["continuous"]),
                      confidence=float(facts.confidence.mean()))
        if digits is not None:
            scores["requested_digit"] = _share(facts.predicted == digits.to(facts.predicted.device)[:, None])
    if "motion" in metrics:
        scores.update(motion_smoothness=_share(track["smooth"]), jerk_median=float(track["jerk"].median()),
                      speed_median=float(track["speed"].median()))
    frame_features = facts.features.flatten(0, 1) if facts.features is not None and "frame_fid" in metrics else None
    return Measures(features if "fvd" in metrics else None, frame_features, scores)


def _share(flags: Tensor) -> float:
    return float(flags.float().mean())


def compare(fake: Measures, real: Measures) -> dict[str, float]:
    """The fake set's scores plus its distances to the real set."""
    scores = dict(fake.scores)
    if fake.video_features is not None and real.video_features is not None:
        scores["fvd"] = frechet_distance(real.video_features, fake.video_features)
    if fake.frame_features is not None and real.frame_features is not None:
        scores["frame_fid"] = frechet_distance(real.frame_features, fake.frame_features)
    return scores


def shuffled_order(n: int, frames: int, seed: int) -> Tensor:
    """One seeded random permutation of the frames per clip [n, frames]."""
    generator = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randperm(frames, generator=generator) for _ in range(n)])


def static_order(n: int, frames: int) -> Tensor:
    """Every frame index 0: the first frame held for the whole clip."""
    return torch.zeros(n, frames, dtype=torch.long)


def reference_rows(real: Measures, held_out: Tensor, metrics: list[str], digits_net: torch.nn.Module | None,
                   video_net: torch.nn.Module | None, seed: int,
                   digits: Tensor | None = None) -> dict[str, dict[str, float]]:
    """Scores of held-out real clips, the same clips shuffled in time, and their first frames held still.
    The classifier runs once on the held-out frames; the other two reorder its per-frame facts."""
    n, t, size = held_out.shape[0], held_out.shape[1], held_out.shape[-1]
    facts = frame_facts(held_out, digits_net if _needs_digits(metrics) else None)
    rows = torch.arange(n)[:, None]
    rows_out: dict[str, dict[str, float]] = {}
    for name, order in (("real", None), ("time-shuffled", shuffled_order(n, t, seed)), ("static", static_order(n, t))):
        clips = held_out if order is None else held_out[rows, order]
        chosen = facts if order is None else facts.reordered(order)
        features = video_features(clips, video_net) if "fvd" in metrics and video_net is not None else None
        rows_out[name] = compare(summarize(chosen, features, metrics, size, digits), real)
    return rows_out


def _needs_digits(metrics: list[str]) -> bool:
    return "frame_fid" in metrics or "temporal" in metrics


def measure(clips: Tensor, metrics: list[str], digits_net: torch.nn.Module | None,
            video_net: torch.nn.Module | None, digits: Tensor | None = None) -> Measures:
    """Features and scores of clips [N, T, C, H, W] in [-1, 1] (``digits``: see ``summarize``)."""
    facts = frame_facts(clips, digits_net if _needs_digits(metrics) else None)
    features = video_features(clips, video_net) if "fvd" in metrics and video_net is not None else None
    return summarize(facts, features, metrics, clips.shape[-1], digits)
