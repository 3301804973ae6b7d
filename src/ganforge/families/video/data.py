"""The video family's data: ``moving-digits`` (rendered offline) and ``video:PATH`` (a folder of videos).

``video:PATH`` reads every video file under PATH (first-level subfolders are classes), centre-crops each
frame to a square, resizes it to ``data.size``, keeps every ``frame_step``-th frame and cuts consecutive
clips of ``data.frames`` frames. Unreadable files and files shorter than one clip are skipped and counted
in one warning line; a folder with no usable clip is a one-line error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganforge.errors import GanforgeError
from ganforge.families.video.clips import ClipSet
from ganforge.families.video.config import VideoDataConfig
from ganforge.families.video.files import VIDEO_SUFFIXES, VideoReadError, read_video
from ganforge.families.video.moving import moving_digits

VIDEO_PREFIX = "video:"
DATA_KINDS = {
    "moving-digits": "Moving MNIST made offline: 1 or 2 embedded digits bouncing in 32x32 (or 64x64) frames, "
                     "16-frame clips, deterministic for data.data_seed",
    VIDEO_PREFIX + "PATH": "a folder of .mp4/.webm/.gif/... files (PyAV); subfolders are classes; frames are "
                           "cropped square, resized to data.size, cut into clips of data.frames",
}


def build_clip_data(data: VideoDataConfig) -> ClipSet:
    """The clips ``data`` names; a GanforgeError naming the problem when there are none."""
    if data.name == "moving-digits":
        return moving_digits(data.clips, data.frames, data.size, data.digits, data.data_seed)
    if data.name.startswith(VIDEO_PREFIX):
        return load_video_folder(Path(data.name[len(VIDEO_PREFIX):]).expanduser(), data)
    raise GanforgeError(f"unknown video data set '{data.name}': use moving-digits or video:PATH "
                        "(a folder of .mp4/.webm/.gif files)")


def video_files(folder: Path) -> list[Path]:
    """Video files under ``folder`` (recursive), sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def fit_frames(frames: np.ndarray, size: int, channels: int) -> torch.Tensor:
    """uint8 [T, H, W, 3] of any size -> uint8 [T, channels, size, size]: centre square crop, antialiased
    resize, ITU-R 601 gray when one channel."""
    t, h, w, _ = frames.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    x = torch.from_numpy(np.ascontiguousarray(frames[:, top:top + side, left:left + side])).permute(0, 3, 1, 2)
    x = x.float()
    if channels == 1:
        x = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(dim=1, keepdim=True)
    if side != size:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=side > size, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8)


def cut_clips(frames: torch.Tensor, length: int, most: int) -> list[torch.Tensor]:
    """Consecutive, non-overlapping clips of ``length`` frames (at most ``most``)."""
    return [frames[s:s + length] for s in range(0, frames.shape[0] - length + 1, length)][:most]


def load_video_folder(folder: Path, data: VideoDataConfig) -> ClipSet:
    """Every usable clip of the videos under ``folder``; see the module docstring."""
    if not folder.is_dir():
        raise GanforgeError(f"video folder not found: {folder} (data.name=video:PATH wants a folder of videos)")
    files = video_files(folder)
    if not files:
        raise GanforgeError(f"no video files in {folder} (looked for {', '.join(VIDEO_SUFFIXES)})")
    class_names = sorted({p.relative_to(folder).parts[0] for p in files if len(p.relative_to(folder).parts) > 1})
    channels = data.channels or 3
    clips: list[torch.Tensor] = []
    labels: list[int] = []
    unreadable: list[Path] = []
    short: list[Path] = []
    for path in files:
        try:
            frames = read_video(path)[:: data.frame_step]
        except VideoReadError:
            unreadable.append(path)
            continue
        if frames.shape[0] < data.frames:
            short.append(path)
            continue
        parts = path.relative_to(folder).parts
        label = class_names.index(parts[0]) if len(parts) > 1 else 0
        cut = cut_clips(fit_frames(frames, data.size, channels), data.frames, data.max_clips_per_video)
        clips.extend(cut)
        labels.extend([label] * len(cut))
    problems = _skipped(folder, unreadable, short, data.frames)
    if not clips:
        raise GanforgeError(f"no usable video clips in {folder}: {problems}")
    if problems:
        print(f"warning: {folder}: skipped {problems}", file=sys.stderr)
    return ClipSet(name=f"{VIDEO_PREFIX}{folder}", clips=torch.stack(clips), labels=torch.tensor(labels),
                   class_names=class_names or [folder.name or "video"])


def _skipped(folder: Path, unreadable: list[Path], short: list[Path], frames: int) -> str:
    parts = []
    if unreadable:
        parts.append(f"{len(unreadable)} unreadable or empty file(s) (e.g. {unreadable[0].relative_to(folder)})")
    if short:
        parts.append(f"{len(short)} file(s) shorter than {frames} frames (e.g. {short[0].relative_to(folder)}; "
                     "lower data.frames or data.frame_step)")
    return "; ".join(parts)
