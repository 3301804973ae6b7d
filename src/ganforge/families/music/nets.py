"""MuseGAN-style networks for multi-track piano rolls ``[B, tracks, steps, pitches]``.

The generator splits its noise into four parts (Dong et al. 2018, "hybrid" model): a shared static part
(the whole segment, all tracks), a shared temporal part (one code per bar, made by a temporal network), and
the same two per track. Each track has its own bar generator (grouped convolutions: private weights,
one call) that turns (shared static, shared bar code, track static, track bar code) into one bar:
transposed convolutions over time with the pitches as output channels, then note probabilities: a sigmoid
per pitch, or for monophonic tracks a softmax over the pitches and a rest. The recipe shows D binarized
fakes through ``straight_through`` (when ``model.straight_through``), so D cannot tell fakes by soft values.
The discriminator sees all tracks at once: a roll stream and a chroma stream (octaves folded), each from
steps to beats to bars, joined by a small MLP. It has no normalization (for WGAN-GP).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def upsample_stages(steps_per_bar: int) -> int:
    """How many times (0-2) the bar generator doubles its time length: as often as steps_per_bar allows."""
    stages = 0
    while stages < 2 and steps_per_bar % (2 ** (stages + 1)) == 0:
        stages += 1
    return stages


class TemporalNet(nn.Module):
    """A code ``[B, z]`` -> one code per bar ``[B, bars, z]``."""

    def __init__(self, z_dim: int, bars: int, hidden: int = 256) -> None:
        super().__init__()
        self.bars, self.z_dim = bars, z_dim
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                 nn.Linear(hidden, bars * z_dim))

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z).view(-1, self.bars, self.z_dim)


class MuseGenerator(nn.Module):
    """Noise ``[B, noise_dim]`` -> note probabilities ``[B, tracks, bars * steps_per_bar, pitches]``."""

    def __init__(self, tracks: int, bars: int, steps_per_bar: int, pitches: int, z_dim: int = 32,
                 width: int = 128, monophonic: bool = False) -> None:
        super().__init__()
        self.monophonic = monophonic
        outputs = pitches + 1 if monophonic else pitches  # monophonic: one more class, "rest"
        self.tracks, self.bars, self.steps_per_bar = tracks, bars, steps_per_bar
        self.pitches, self.z_dim = pitches, z_dim
        self.noise_dim = z_dim * 2 * (1 + tracks)
        self.shared_temporal = TemporalNet(z_dim, bars)
        self.track_temporal = TemporalNet(z_dim, bars)  # one network for every track's temporal code
        stages = upsample_stages(steps_per_bar)
        self.start_len = steps_per_bar // 2**stages
        channels = width
        # per-track linear layer: weights [tracks, 4z, width * start_len]
        self.project = nn.Parameter(torch.randn(tracks, 4 * z_dim, width * self.start_len) / (4 * z_dim) ** 0.5)
        layers: list[nn.Module] = [nn.BatchNorm1d(tracks * width), nn.ReLU()]
        for _ in range(stages):
            layers += [nn.ConvTranspose1d(tracks * channels, tracks * (channels // 2), 4, 2, 1, groups=tracks),
                       nn.BatchNorm1d(tracks * (channels // 2)), nn.ReLU()]
            channels //= 2
        layers += [nn.Conv1d(tracks * channels, tracks * channels, 3, 1, 1, groups=tracks),
                   nn.BatchNorm1d(tracks * channels), nn.ReLU(),
                   nn.Conv1d(tracks * channels, tracks * outputs, 1, groups=tracks)]
        self.bar_net = nn.Sequential(*layers)
        self.width = width

    def split_noise(self, noise: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(shared static [B, z], shared temporal [B, z], track static [B, T, z], track temporal [B, T, z])."""
        z, t = self.z_dim, self.tracks
        shared_static, shared_temporal = noise[:, :z], noise[:, z:2 * z]
        track_static = noise[:, 2 * z:2 * z + t * z].reshape(-1, t, z)
        track_temporal = noise[:, 2 * z + t * z:].reshape(-1, t, z)
        return shared_static, shared_temporal, track_static, track_temporal

    def forward(self, noise: Tensor, labels: Tensor | None = None) -> Tensor:
        b, t, bars, z = noise.shape[0], self.tracks, self.bars, self.z_dim
        shared_static, shared_temporal, track_static, track_temporal = self.split_noise(noise)
        shared_bars = self.shared_temporal(shared_temporal)  # [B, bars, z]
        track_bars = self.track_temporal(track_temporal.reshape(b * t, z)).view(b, t, bars, z)
        codes = torch.cat([
            shared_static[:, None, None, :].expand(b, t, bars, z),
            shared_bars[:, None, :, :].expand(b, t, bars, z),
            track_static[:, :, None, :].expand(b, t, bars, z),
            track_bars,
        ], dim=-1)  # [B, tracks, bars, 4z]
        hidden = torch.einsum("btnk,tkh->bnth", codes, self.project)  # [B, bars, tracks, width * start_len]
        hidden = hidden.reshape(b * bars, t * self.width, self.start_len)
        logits = self.bar_net(hidden)  # [B * bars, tracks * outputs, steps_per_bar]
        logits = logits.view(b, bars, t, -1, self.steps_per_bar).permute(0, 2, 1, 4, 3)
        logits = logits.reshape(b, t, bars * self.steps_per_bar, -1)
        if self.monophonic:  # a distribution over the pitches and a rest; the rest's share is left out
            return torch.softmax(logits, dim=-1)[..., : self.pitches]
        return torch.sigmoid(logits)


def straight_through(probs: Tensor, monophonic: bool) -> Tensor:
    """Binary rolls in the forward pass, the probabilities' gradient in the backward pass (Bengio et al. 2013;
    BinaryMuseGAN's deterministic binary neurons). Monophonic: each track's most likely pitch, or a rest when
    the rest is more likely than every pitch; otherwise every note above one half."""
    if monophonic:
        best, where = probs.max(dim=-1, keepdim=True)
        rest = 1.0 - probs.sum(dim=-1, keepdim=True)
        hard = torch.zeros_like(probs).scatter_(-1, where, 1.0) * (best > rest)
    else:
        hard = (probs > 0.5).to(probs.dtype)
    return hard + probs - probs.detach()


class MuseDiscriminator(nn.Module):
    """Rolls ``[B, tracks, steps, pitches]`` (values in [0, 1]) -> one raw logit each ``[B]``.

    Two streams over time, each seeing all tracks at once: the roll (tracks x pitches as channels) and its
    chroma (tracks x 12 pitch classes), each reduced by strided convolutions from steps to beats to bars,
    then joined by an MLP. Kept small on purpose: it runs three times per critic step under WGAN-GP.
    (Tried on the chorales and not kept: a third stream of note changes per step made the samples choppier;
    beat windows overlapping their neighbours traded pitch classes for in-scale and tonal distance; see
    docs/music.md.)"""

    def __init__(self, tracks: int, steps_per_beat: int, beats_per_bar: int, bars: int, pitches: int,
                 width: int = 64) -> None:
        super().__init__()
        act = nn.LeakyReLU(0.2)
        self.roll_stream = nn.Sequential(
            nn.Conv1d(tracks * pitches, width, steps_per_beat, steps_per_beat), act,  # -> beats
            nn.Conv1d(width, 2 * width, beats_per_bar, beats_per_bar), act,  # -> bars
        )
        self.chroma_stream = nn.Sequential(
            nn.Conv1d(tracks * 12, width // 2, steps_per_beat, steps_per_beat), act,
            nn.Conv1d(width // 2, width, beats_per_bar, beats_per_bar), act,
        )
        fold = torch.zeros(pitches, 12)
        fold[torch.arange(pitches), torch.arange(pitches) % 12] = 1.0
        self.register_buffer("fold", fold, persistent=False)
        self.head = nn.Sequential(nn.Linear(3 * width * bars, 4 * width), act, nn.Linear(4 * width, 1))

    def forward(self, rolls: Tensor, labels: Tensor | None = None) -> Tensor:
        b, tracks, steps, _ = rolls.shape
        chroma = rolls @ self.fold  # [B, tracks, steps, 12] (pitch classes up to a fixed rotation)
        as_channels = rolls.permute(0, 1, 3, 2).reshape(b, -1, steps)  # [B, tracks * pitches, steps]
        chroma_channels = chroma.permute(0, 1, 3, 2).reshape(b, -1, steps)
        features = torch.cat([self.roll_stream(as_channels).flatten(1),
                              self.chroma_stream(chroma_channels).flatten(1)], dim=1)
        return self.head(features).squeeze(1)
