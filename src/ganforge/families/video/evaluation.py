"""``ganforge eval`` for video runs: generated clips against real ones, with reference rows."""

from __future__ import annotations

from typing import Any

import torch

from ganforge.data.base import uint8_to_unit as to_unit
from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest
from ganforge.families.video import metrics
from ganforge.families.video.config import VideoDataConfig
from ganforge.families.video.data import build_clip_data
from ganforge.families.video.featnet import VIDEO_NET_VERSION, load_video_net
from ganforge.families.video.model import VideoModel, check_class, generate_clips

REFERENCE_SEED = 7_000_001  # moving-digits clips the generated ones are compared with
HELD_OUT_SEED = 7_000_002  # other real clips: the "real" reference row
SHUFFLE_SEED = 3


def parse_video_metrics(text: str | None, default: list[str]) -> list[str]:
    """``fvd,temporal`` -> a checked list (the run's eval.metrics when None)."""
    names = [m.strip() for m in text.split(",") if m.strip()] if text else list(default)
    unknown = [m for m in names if m not in metrics.METRIC_NAMES]
    if unknown or not names:
        raise GanforgeError(f"unknown video metric(s) {', '.join(unknown) or '(none)'}; "
                            f"choose from {', '.join(metrics.METRIC_NAMES)}")
    return names


def real_clips(data: VideoDataConfig, against: str | None, n: int,
               seed: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    """``n`` real clips in [-1, 1] like the run's data (or ``against``), their labels, and how they were made.
    Moving digits are rendered with ``seed``; a video folder gives its even-numbered clips for the reference
    seed and its odd-numbered ones otherwise (so the "real" reference row is not the reference itself)."""
    name = against or data.name
    if name == "moving-digits":
        settings = data.model_copy(update={"name": name, "clips": max(n, 16), "data_seed": seed})
        made = f"moving-digits, {n} clips, seed {seed}, {data.digits} digit(s), {data.frames}x{data.size}px"
        clip_set = build_clip_data(settings)
        return to_unit(clip_set.clips[:n]), clip_set.labels[:n], made
    clip_set = build_clip_data(data.model_copy(update={"name": name}))
    start = 0 if seed == REFERENCE_SEED else 1
    half, labels = clip_set.clips[start::2], clip_set.labels[start::2]
    if len(half) < 2:
        raise GanforgeError(f"{name} holds {len(clip_set.clips)} clip(s); evaluation needs at least 4")
    parity = "even" if seed == REFERENCE_SEED else "odd"
    return to_unit(half[:n]), labels[:n], f"{name}, {min(n, len(half))} {parity}-numbered clips"


def evaluate_video(model: VideoModel, request: EvalRequest, default_n: int) -> dict[str, Any]:
    """The run's scores, the reference rows (real, time-shuffled, static) and the protocol."""
    config = model.config
    names = parse_video_metrics(request.metrics, config.eval.metrics)
    n = request.n or default_n
    if n < 16:
        raise GanforgeError(f"--n must be at least 16 clips for video metrics; got {n}")
    digits_net = video_net = None
    if "frame_fid" in names or "temporal" in names:
        from ganforge.metrics.digits_net import load_digits_net

        digits_net = load_digits_net()
    if "fvd" in names:
        video_net = load_video_net()
    real, _, made = real_clips(config.data, request.against, n, REFERENCE_SEED)
    fake = generate_clips(model, n, request.seed)
    if fake.shape[2] != real.shape[2] or fake.shape[-1] != real.shape[-1]:
        fake = _like(fake, real)
    # a conditional moving-digits run asks for digits (classes in turn): score how often frames show them
    asks_digits = model.conditional and (request.against or config.data.name) == "moving-digits"
    asked = check_class(model, None, n) if asks_digits else None
    real_measures = metrics.measure(real, names, digits_net, video_net)
    results: dict[str, Any] = {"run": metrics.compare(metrics.measure(fake, names, digits_net, video_net, asked),
                                                      real_measures)}
    if config.eval.references:
        held_out, held_out_digits, _ = real_clips(config.data, request.against, n, HELD_OUT_SEED)
        results["references"] = metrics.reference_rows(real_measures, held_out, names, digits_net, video_net,
                                                       SHUFFLE_SEED, held_out_digits if asks_digits else None)
    results["protocol"] = {
        "metrics": names,
        "fake_clips": n,
        "real_clips": int(real.shape[0]),
        "seed": request.seed,
        "reference": made,
        "fvd_features": f"{VIDEO_NET_VERSION} (3D-conv net trained on moving digits; not I3D: FVD values are "
                        "comparable only with other video-v1 numbers)",
        "frame_features": f"digits-v1 on crops of side {metrics.CROP_SCALE} x 28/64 of the frame around each "
                          "frame's centre of mass, resized to 28x28 (bilinear)",
        "thresholds": {"min_speed": metrics.MIN_SPEED, "max_step": metrics.MAX_STEP, "max_jerk": metrics.MAX_JERK,
                       "units": "pixels per frame (^3 for jerk) in a 32-pixel frame"},
        "references": "real: other real clips (held-out seed); time-shuffled: those clips' frames in random "
                      "order; static: their first frame repeated" if config.eval.references else None,
    }
    return results


def _like(fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Generated clips brought to the reference's channels and frame size (another --against)."""
    import torch.nn.functional as F

    n, t = fake.shape[:2]
    frames = fake.flatten(0, 1)
    if frames.shape[1] != real.shape[2]:
        frames = frames.mean(dim=1, keepdim=True).expand(-1, real.shape[2], -1, -1)
    if frames.shape[-1] != real.shape[-1]:
        frames = F.interpolate(frames, size=real.shape[-2:], mode="bilinear", antialias=True, align_corners=False)
    return frames.reshape(n, t, *frames.shape[1:])


def format_video_report(results: dict[str, Any]) -> str:
    """A table: one row per clip set (the run and the references), one column per score."""
    rows = {"run": results["run"], **results.get("references", {})}
    keys = [k for k in ("fvd", "frame_fid", "temporal_consistency", "motion_smoothness", "confidence",
                        "requested_digit", "jerk_median", "speed_median") if any(k in r for r in rows.values())]
    widths = [max(10, len(k) + 2) for k in keys]
    lines = [f"{'':<15}" + "".join(f"{k:>{w}}" for k, w in zip(keys, widths, strict=True))]
    for name, row in rows.items():
        cells = [f"{row[k]:>{w}.4g}" if k in row else f"{'-':>{w}}" for k, w in zip(keys, widths, strict=True)]
        lines.append(f"{name:<15}" + "".join(cells))
    protocol = results["protocol"]
    lines.append(f"protocol: {protocol['fake_clips']} generated vs {protocol['real_clips']} real clips "
                 f"({protocol['reference']}); FVD features {VIDEO_NET_VERSION} (not I3D)")
    lines.append("higher is better: temporal_consistency, motion_smoothness, confidence, requested_digit (share of "
                 "frames read as the asked digit; real rows: as the clip's own); lower: fvd, frame_fid")
    return "\n".join(lines)
