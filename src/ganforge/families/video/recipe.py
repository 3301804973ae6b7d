"""The MoCoGAN training step (for both generators, ``model.arch`` mocogan or warp): one batch of real clips, a D
step for both discriminators, then a G step.

Read top to bottom: sample content and motion latents -> fake clips; the video D judges whole clips, the
image D judges ``image_frames`` random frames of each clip (real and fake) and, with ``model.crop_d``, a crop D
judges 16x16 crops of those frames around their centre of mass (the object's shape, at the resolution where
shape is decided); D minimises the losses on ``fake.detach()``; then G minimises the generator losses on fresh
fake clips. With ``model.glyph_steps`` (warp), the first steps train the glyph alone instead
(``ganforge.families.video.glyphs``) and the clip steps after them leave it frozen.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ganforge.ema import EMA
from ganforge.errors import GanforgeError
from ganforge.families.video.clips import ClipSet
from ganforge.families.video.config import VideoConfig
from ganforge.families.video.glyphs import GlyphPhase
from ganforge.families.video.metrics import centre_of_mass, crop_digits
from ganforge.families.video.nets import ImageDiscriminator, VideoDiscriminator, VideoGenerator
from ganforge.families.video.warp import WarpGenerator
from ganforge.losses import build_loss, clip_weights, gradient_penalty, r1_penalty


def build_generator(config: VideoConfig) -> VideoGenerator | WarpGenerator:
    """The clip generator a (fitted) config describes: ``model.arch`` mocogan or warp."""
    data, model = config.data, config.model
    if model.arch == "warp":
        return WarpGenerator(data.frames, data.channels or 1, data.size, model.content_dim, model.motion_dim,
                             model.noise_dim, model.g_width, model.num_classes if model.conditional else 0,
                             model.glyph, model.max_speed, model.wobble,
                             model.glyph_clusters if model.glyph_steps else 0, model.glyph_net,
                             model.glyph_supersample)
    return VideoGenerator(data.frames, data.channels or 1, data.size, model.content_dim, model.motion_dim,
                          model.noise_dim, model.g_width, model.num_classes if model.conditional else 0)


CROP_SIDE = 16  # pixels of the crop discriminator's input


def pick_frames(clips: Tensor, k: int) -> Tensor:
    """``k`` random frames of each clip [B, T, C, H, W] -> [B * k, C, H, W]."""
    b, t = clips.shape[:2]
    index = torch.randint(0, t, (b, k), device=clips.device)
    picked = clips[torch.arange(b, device=clips.device)[:, None], index]
    return picked.flatten(0, 1)


def object_crops(frames: Tensor) -> Tensor:
    """Frames [N, C, H, W] -> gray crops [N, 1, 16, 16] around each frame's centre of mass (the window of the
    frame FID metric). The centre is detached: gradients reach the pixels, not the crop's placement."""
    clips = frames[:, None]
    return crop_digits(clips, centre_of_mass(clips.detach()), out=CROP_SIDE)


class MocoganRecipe:
    """Networks, optimizers, loss and EMA of a video run, and its ``train_step``."""

    batches_per_step = 1

    def __init__(self, config: VideoConfig, device: torch.device, clips: ClipSet | None = None) -> None:
        if config.train.amp != "none":
            raise GanforgeError("video runs train in float32; remove --set train.amp")
        data, model, optim = config.data, config.model, config.optim
        classes = model.num_classes if model.conditional else 0
        channels = data.channels or 1
        self.device = device
        self.conditional = model.conditional
        self.image_frames = model.image_frames
        self.image_weight = config.loss.image_weight
        self.generator = build_generator(config).to(device)
        self.video_d = VideoDiscriminator(data.frames, channels, data.size, model.d_width, classes).to(device)
        self.image_d = ImageDiscriminator(channels, data.size, model.d_width, classes).to(device)
        self.crop_d = ImageDiscriminator(1, CROP_SIDE, model.d_width, classes).to(device) if model.crop_d else None
        self.crop_weight = config.loss.crop_weight
        self.loss = build_loss(config.loss.name, config.loss.variant, config.loss.real_label, config.loss.gp_weight,
                               config.loss.clip, config.loss.r1_gamma)
        d_params = [p for d in self.discriminators for p in d.parameters()]
        self.g_opt = torch.optim.Adam(self.generator.parameters(), optim.g_lr, optim.g_betas, foreach=True)
        self.d_opt = torch.optim.Adam(d_params, optim.d_lr, optim.d_betas, foreach=True)
        self.ema = EMA(self.generator, config.train.ema_decay, config.train.ema_warmup) \
            if config.train.ema_decay > 0 else None
        self.n_critic = optim.n_critic
        self.glyph_steps = model.glyph_steps
        self.steps_done = 0  # saved: which phase a resumed run is in
        self.glyph_phase = self._glyph_phase(config, clips) if model.glyph_steps else None

    def _glyph_phase(self, config: VideoConfig, clips: ClipSet | None) -> GlyphPhase:
        model = config.model
        if not isinstance(self.generator, WarpGenerator) or clips is None:
            raise GanforgeError("model.glyph_steps needs model.arch=warp and the training clips")
        return GlyphPhase(self.generator, clips.clips[:, 0], clips.labels, model.glyph_d_width, model.glyph_lr,
                          config.optim.g_betas, model.glyph_batch_size, model.glyph_mode_seeking,
                          config.train.seed, self.loss, self.device)

    @property
    def discriminators(self) -> list[nn.Module]:
        """Every discriminator of the run (video, image and, with model.crop_d, crop)."""
        return [d for d in (self.video_d, self.image_d, self.crop_d) if d is not None]

    @property
    def sampler(self) -> nn.Module:
        """The network samples come from: the EMA generator if any."""
        return self.ema.shadow if self.ema is not None else self.generator

    def _frame_logits(self, clips: Tensor, labels: Tensor | None) -> list[tuple[float, Tensor]]:
        """(weight, logits) of the frame-level discriminators on ``image_frames`` random frames per clip."""
        frame_labels = labels.repeat_interleave(self.image_frames) if labels is not None else None
        frames = pick_frames(clips, self.image_frames)
        judged = [(self.image_weight, self.image_d(frames, frame_labels))]
        if self.crop_d is not None:
            judged.append((self.crop_weight, self.crop_d(object_crops(frames), frame_labels)))
        return judged

    def _d_terms(self, real: Tensor, fake: Tensor, labels: Tensor | None) -> Tensor:
        total = self.loss.d_loss(self.video_d(real, labels), self.video_d(fake, labels))
        for (weight, real_logits), (_, fake_logits) in zip(self._frame_logits(real, labels),
                                                            self._frame_logits(fake, labels), strict=True):
            total = total + weight * self.loss.d_loss(real_logits, fake_logits)
        if self.loss.gp_weight:
            total = total + self.loss.gp_weight * gradient_penalty(self.video_d, real, fake, labels)
        if self.loss.r1_gamma:
            real = real.detach().requires_grad_(True)
            total = total + 0.5 * self.loss.r1_gamma * r1_penalty(self.video_d(real, labels), real)
        return total

    def train_step(self, batches: Sequence[tuple[Tensor, Tensor]]) -> dict[str, Tensor]:
        step = self.steps_done
        self.steps_done += 1
        if self.glyph_phase is not None:
            if step < self.glyph_steps:  # the clip batch is drawn (the stream stays in step) but not used
                scalars = self.glyph_phase.step(step)
                if self.ema is not None:
                    self.ema.update(self.generator)
                return scalars
            if step == self.glyph_steps:
                self._keep_glyph_from_ema()
                self._freeze_glyph()
        return self._clip_step(batches)

    @torch.no_grad()
    def _keep_glyph_from_ema(self) -> None:
        """At the end of the glyph phase the glyph that is kept is the EMA's (the better one: frame FID 6.6
        against 8.1 for the raw glyph, docs/video.md); without this the EMA would drift to the raw glyph."""
        if self.ema is None:
            return
        for kept, averaged in zip(self.generator.glyph_parameters(), self.ema.shadow.glyph_parameters(), strict=True):
            kept.copy_(averaged)

    def _freeze_glyph(self) -> None:
        """The clip steps leave the glyph as its phase made it (no gradients, so Adam skips it)."""
        for p in self.generator.glyph_parameters():
            p.requires_grad_(False)

    def _clip_step(self, batches: Sequence[tuple[Tensor, Tensor]]) -> dict[str, Tensor]:
        real, labels = batches[0]
        labels = labels if self.conditional else None
        batch = real.shape[0]

        # Discriminators: n_critic steps on fresh fakes (no generator gradients).
        for _ in range(self.n_critic):
            with torch.no_grad():
                fake = self.generator(*self.generator.latents(batch, device=self.device), labels)
            d_loss = self._d_terms(real, fake, labels)
            self.d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            self.d_opt.step()
            if self.loss.weight_clip:
                for d in self.discriminators:
                    clip_weights(d, self.loss.weight_clip)

        # Generator: fool every discriminator.
        for d in self.discriminators:
            d.requires_grad_(False)
        fake = self.generator(*self.generator.latents(batch, device=self.device), labels)
        g_video = self.loss.g_loss(self.video_d(fake, labels))
        g_frames = sum(weight * self.loss.g_loss(logits) for weight, logits in self._frame_logits(fake, labels))
        g_loss = g_video + g_frames
        self.g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_opt.step()
        for d in self.discriminators:
            d.requires_grad_(True)
        if self.ema is not None:
            self.ema.update(self.generator)
        return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "g_video": g_video.detach(),
                "g_frames": g_frames.detach()}

    def state_dict(self) -> dict[str, Any]:
        state = {"generator": self.generator.state_dict(), "video_d": self.video_d.state_dict(),
                 "image_d": self.image_d.state_dict(), "g_opt": self.g_opt.state_dict(),
                 "d_opt": self.d_opt.state_dict()}
        if self.crop_d is not None:
            state["crop_d"] = self.crop_d.state_dict()
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        if self.glyph_phase is not None:
            state["glyph_phase"] = self.glyph_phase.state_dict()
            state["steps_done"] = self.steps_done
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.video_d.load_state_dict(state["video_d"])
        self.image_d.load_state_dict(state["image_d"])
        if self.crop_d is not None:
            self.crop_d.load_state_dict(state["crop_d"])
        self.g_opt.load_state_dict(state["g_opt"])
        self.d_opt.load_state_dict(state["d_opt"])
        if self.ema is not None and "ema" in state:
            self.ema.load_state_dict(state["ema"])
        if self.glyph_phase is not None:
            self.glyph_phase.load_state_dict(state["glyph_phase"])
            self.steps_done = int(state["steps_done"])
            if self.steps_done > self.glyph_steps:  # resumed in the clip phase: the saved glyph is the kept one
                self._freeze_glyph()
