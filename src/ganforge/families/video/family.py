"""The video family: moving digits (or your videos), a warp (what/where) or MoCoGAN-style model,
GIF/MP4/frame-strip outputs, FVD and temporal metrics, and a GIF-serving ``POST /generate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field

from ganforge.data.clusters import clusters_for
from ganforge.data.stream import BatchStream, prepare_images
from ganforge.errors import GanforgeError
from ganforge.families.base import EvalRequest, Family, Reply, Route, SampleRequest, TrainingContext
from ganforge.families.video.clips import ClipSet, collate_clips
from ganforge.families.video.config import VideoConfig
from ganforge.families.video.data import DATA_KINDS, build_clip_data
from ganforge.families.video.evaluation import evaluate_video, format_video_report
from ganforge.families.video.files import frame_strip, tile, write_gif
from ganforge.families.video.metrics import METRIC_DESCRIPTIONS
from ganforge.families.video.model import VideoModel, generate_clips, load_video_model
from ganforge.families.video.nets import check_size
from ganforge.families.video.outputs import as_frames, clips_gif, write_clips
from ganforge.families.video.recipe import MocoganRecipe
from ganforge.parallel import World
from ganforge.run_folder import RunFolder
from ganforge.training.callbacks import Preview

PREVIEW_SEED_OFFSET = 7919
MAX_PREVIEW_CLIPS = 16
MAX_SERVED_CLIPS = 16


class VideoFamily(Family):
    name = "video"
    description = "short video clips (moving digits): warp (what/where) or MoCoGAN, GIF/MP4 out, FVD, temporal metrics"
    config_class = VideoConfig
    archs = ("mocogan", "warp")
    sample_options = frozenset({"class_index"})
    output_suffixes = ("/", ".gif", ".mp4", ".png")
    default_eval_n = 500

    def data_kinds(self) -> dict[str, str]:
        return dict(DATA_KINDS)

    def model_kinds(self) -> dict[str, str]:
        return {"mocogan": "video: content latent per clip + GRU motion latent per frame; image D and 3D-conv video D",
                "warp": "video: one glyph per clip (content) moved by a GRU trajectory (motion) with a "
                        "differentiable warp; image D and 3D-conv video D"}

    def metric_kinds(self) -> dict[str, str]:
        return {k: f"video: {v}" for k, v in METRIC_DESCRIPTIONS.items()}

    # --- training ------------------------------------------------------------------------------------

    def build_data(self, config: VideoConfig) -> ClipSet:
        check_size(config.data.size)
        return build_clip_data(config.data)

    def fit_config(self, config: VideoConfig, data: ClipSet) -> VideoConfig:
        channels = data.clip_shape[1]
        config = config.with_section("data", channels=channels)
        if config.model.conditional:
            config = config.with_section("model", num_classes=data.num_classes)
        if config.model.glyph_steps:
            if config.model.arch != "warp":
                raise GanforgeError("model.glyph_steps trains the glyph of a warp run: use model.arch=warp, or "
                                    "--set model.glyph_steps=0")
            # a class-conditional glyph is conditioned on the class, an unconditional one on glyph clusters
            clusters = 0 if config.model.conditional else clusters_for(config.model.glyph_clusters, len(data))
            config = config.with_section("model", glyph_clusters=clusters)
        return config

    def build_recipe(self, config: VideoConfig, data: ClipSet, device: torch.device) -> MocoganRecipe:
        return MocoganRecipe(config, device, data)

    def build_stream(self, config: VideoConfig, data: ClipSet, device: torch.device, world: World) -> BatchStream:
        return BatchStream(data, config.data.batch_size, config.train.seed, device, config.data.num_workers,
                           world=world, collate=collate_clips, prepare=prepare_images)

    def callbacks(self, context: TrainingContext) -> list[Any]:
        if not context.writes:
            return []
        config, recipe = context.config, context.recipe
        n = min(MAX_PREVIEW_CLIPS, config.train.grid_size)
        latents = recipe.generator.latents(n, torch.Generator().manual_seed(config.train.seed + PREVIEW_SEED_OFFSET),
                                           torch.device("cpu"))
        labels = torch.arange(n) % config.model.num_classes if config.model.conditional else None

        @torch.no_grad()
        def write(stem: Path) -> list[Path]:
            sampler = recipe.sampler
            was_training = sampler.training
            sampler.eval()
            moved = [x.to(context.device) for x in latents]
            clips = sampler(*moved, None if labels is None else labels.to(context.device)).float().cpu()
            sampler.train(was_training)
            frames = as_frames(clips)
            gif = write_gif(tile(frames), stem.with_suffix(".gif"), config.data.fps)
            strip = stem.with_suffix(".png")
            frame_strip(frames[:8]).save(strip)
            return [gif, strip]

        return [Preview(context.run.samples, write, config.train.sample_every)]

    def checkpoint_info(self, config: VideoConfig, data: ClipSet) -> dict[str, Any]:
        return {"class_names": list(data.class_names), "clip_shape": list(data.clip_shape)}

    # --- using a run ---------------------------------------------------------------------------------

    def load(self, run: RunFolder, config: VideoConfig, state: dict[str, Any], device: torch.device,
             ema: bool = True) -> VideoModel:
        return load_video_model(config, state, device, ema)

    def sample(self, model: VideoModel, request: SampleRequest) -> dict[str, Any]:
        clips = generate_clips(model, request.n, request.seed, request.class_index)
        return {"clips": clips, "fps": model.fps}

    def write(self, samples: dict[str, Any], out: Path) -> str:
        return write_clips(samples["clips"], out, self.check_suffix(out), samples["fps"])

    def evaluate(self, run: RunFolder, model: VideoModel, request: EvalRequest) -> dict[str, Any]:
        return evaluate_video(model, request, model.config.eval.n or self.default_eval_n)

    def report(self, results: dict[str, Any]) -> str:
        return format_video_report(results)

    def routes(self) -> list[Route]:
        return [Route("generate", gif_reply, ClipRequest, output="image", label="Generate clips (GIF)")]

    def describe(self, model: VideoModel) -> dict[str, Any]:
        frames, channels, height, width = model.generator.clip_shape
        return {"frames": frames, "channels": channels, "size": [height, width], "fps": model.fps,
                "num_classes": model.generator.num_classes, "classes": model.class_names}


class ClipRequest(BaseModel):
    """``POST /generate``: ``n`` clips tiled in one animated GIF."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    n: int = Field(4, ge=1, le=MAX_SERVED_CLIPS, description=f"clips, at most {MAX_SERVED_CLIPS}")
    seed: int = Field(0, ge=0, lt=2**31)
    class_index: int | None = Field(None, alias="class", ge=0, description="class (conditional runs only)")


def gif_reply(model: VideoModel, request: ClipRequest) -> Reply:
    clips = generate_clips(model, request.n, request.seed, request.class_index)
    return Reply(clips_gif(clips, model.fps), "image/gif")
