"""MuseGAN-style networks for multi-track piano rolls ``[B, tracks, steps, pitches]``.

The generator splits its noise into four parts (Dong et al. 2018, "hybrid" model): a shared static part
(the whole segment, all tracks), a shared temporal part (one code per bar, made by a temporal network), and
the same two per track. Each track has its own bar generator (grouped convolutions: private weights,
one call) that turns (shared static, shared bar code, track static, track bar code) into one bar:
transposed convolutions over time with the pitches as output channels, then note probabilities: a sigmoid
per pitch, or for monophonic tracks a softmax over the pitches and a rest; with ``hold``, each step may
instead hold the step before (note onsets, ``held_notes``). The recipe shows D binarized
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
                 width: int = 128, monophonic: bool = False, hold: bool = False) -> None:
        super().__init__()
        self.monophonic, self.hold = monophonic, hold
        # monophonic: one more class, "rest"; hold: one more class, "hold" (monophonic) or 3 choices per pitch
        per_pitch = 3 if hold else 1
        outputs = pitches + 1 + int(hold) if monophonic else per_pitch * pitches
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
        if self.hold:
            return held_notes(logits, self.monophonic, self.pitches)
        if self.monophonic:  # a distribution over the pitches and a rest; the rest's share is left out
            return torch.softmax(logits, dim=-1)[..., : self.pitches]
        return torch.sigmoid(logits)


def held_notes(logits: Tensor, monophonic: bool, pitches: int) -> Tensor:
    """Note probabilities from "start or hold" choices (a note-onset parameterization).

    At each step a track either makes a fresh choice (monophonic: a pitch or the rest; otherwise per pitch:
    on or off) or holds what it played at the step before, so a sustained note costs one decision, not one
    per step. With ``o_t`` the fresh choice's probabilities and ``h_t`` the hold probability, the marginal
    is ``q_t = o_t + h_t * q_(t-1)`` (at the first step the fresh choice, renormalized). The recurrence is
    computed at once: ``q_t = sum_(s<=t) o_s * prod_(s<u<=t) h_u``, the products from cumulative sums of
    ``log h`` (every exponent is <= 0, so it is stable).

    ``logits``: ``[B, tracks, steps, pitches + 2]`` (monophonic: pitches, rest, hold) or ``[..., 3 * pitches]``
    (per pitch: on, off, hold). Returns ``[B, tracks, steps, pitches]``: monophonic, the pitches' share of a
    distribution over pitches and the rest; otherwise each pitch's probability to sound.
    """
    b, tracks, steps, _ = logits.shape
    if monophonic:
        fresh_logits, hold_logit = logits[..., :-1], logits[..., -1:]  # [.., P + 1], [.., 1]
    else:
        per_pitch = logits.view(b, tracks, steps, 3, pitches)
        fresh_logits, hold_logit = per_pitch[..., :2, :].transpose(-1, -2), per_pitch[..., 2, :, None]
    log_all = torch.log_softmax(torch.cat([fresh_logits, hold_logit], dim=-1), dim=-1)
    fresh = log_all[..., :-1].exp()
    log_hold = log_all[..., -1]  # [B, tracks, steps] or [B, tracks, steps, P]
    first = torch.softmax(fresh_logits[:, :, :1], dim=-1)  # step 0 cannot hold: its fresh choice, renormalized
    fresh = torch.cat([first, fresh[:, :, 1:]], dim=2)
    log_hold = torch.cat([torch.zeros_like(log_hold[:, :, :1]), log_hold[:, :, 1:]], dim=2)
    cumulative = log_hold.cumsum(dim=2)  # sum of log h_u for u <= t
    if not monophonic:
        cumulative = cumulative.movedim(-1, 2)  # [B, tracks, P, steps]: one chain per pitch
    exponent = cumulative[..., :, None] - cumulative[..., None, :]  # [.., t, s]: sum over s < u <= t
    causal = torch.ones(steps, steps, dtype=torch.bool, device=logits.device).tril()
    weights = exponent.masked_fill(~causal, float("-inf")).exp()
    if monophonic:
        marginal = weights @ fresh  # [B, tracks, steps, P + 1]
        return marginal[..., :pitches]
    on = fresh[..., 0].movedim(-1, 2)[..., None]  # [B, tracks, P, steps, 1]
    return (weights @ on)[..., 0].movedim(2, -1)


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
