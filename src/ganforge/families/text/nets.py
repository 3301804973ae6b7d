"""The text networks: an LSTM language model (generator) and a CNN discriminator (Kim 2014, as in SeqGAN).

The generator's logits of banned tokens (``<pad>``, ``<bos>``; for oracle data also ``<eos>`` and
``<unk>``) are pushed to -1e9 so that it never emits them and its NLL is over the tokens it may emit.
The discriminator takes token ids [B, L] or (relaxed) one-hot rows [B, L, V] and returns raw logits [B].
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.families.text.vocab import BOS, EOS, PAD, UNK

NEG = -1e9
State = tuple[Tensor, Tensor]


class LSTMGenerator(nn.Module):
    """An autoregressive LSTM over ``vocab_size`` tokens; the first input of every sequence is ``<bos>``."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden_dim: int, max_len: int, end_token: bool) -> None:
        super().__init__()
        self.vocab_size, self.max_len, self.end_token = vocab_size, max_len, end_token
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, batch_first=True)
        self.out = nn.Linear(hidden_dim, vocab_size)
        banned = [PAD, BOS] if end_token else [PAD, BOS, EOS, UNK]
        mask = torch.zeros(vocab_size)
        mask[banned] = NEG
        self.register_buffer("banned", mask, persistent=False)

    def forward(self, inputs: Tensor, state: State | None = None) -> tuple[Tensor, State]:
        """Logits [B, T, V] of the next token after each input token [B, T], and the final state."""
        output, state = self.lstm(self.embed(inputs), state)
        return self.out(output) + self.banned, state

    def teacher_forced(self, tokens: Tensor) -> Tensor:
        """Logits [B, L, V] of each token of ``tokens`` [B, L] given the ones before it."""
        inputs = torch.cat([torch.full_like(tokens[:, :1], BOS), tokens[:, :-1]], dim=1)
        return self(inputs)[0]

    def read_states(self, tokens: Tensor) -> list[State]:
        """``states[k]``: the state after reading ``<bos>`` and ``tokens[:, :k]``, for k = 0..L-2."""
        inputs = torch.cat([torch.full_like(tokens[:, :1], BOS), tokens[:, :-2]], dim=1)
        state: State | None = None
        states = []
        for t in range(inputs.shape[1]):
            state = self(inputs[:, t : t + 1], state)[1]
            states.append(state)
        return states


def alive_after(tokens: Tensor) -> Tensor:
    """[B, L] bool: the position holds a real token (up to and including the first ``<eos>``)."""
    ended = (tokens == EOS).int().cumsum(dim=1)
    before_end = torch.cat([torch.zeros_like(ended[:, :1]), ended[:, :-1]], dim=1) == 0
    return before_end & (tokens != PAD)


class Highway(nn.Module):
    """One highway layer: y = g * relu(W x) + (1 - g) * x."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.transform = nn.Linear(dim, dim)
        self.gate = nn.Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        gate = torch.sigmoid(self.gate(x))
        return gate * F.relu(self.transform(x)) + (1 - gate) * x


class CNNDiscriminator(nn.Module):
    """Token embedding, one convolution per window width, max over time, a highway layer and a logit."""

    def __init__(self, vocab_size: int, embed_dim: int, filters: int, windows: Sequence[int], max_len: int,
                 dropout: float) -> None:
        super().__init__()
        windows = [w for w in windows if w <= max_len] or [min(max_len, 2)]
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, filters, w) for w in windows)
        width = filters * len(windows)
        self.highway = Highway(width)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(width, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Raw logits [B] of token ids [B, L] or one-hot / relaxed rows [B, L, V]."""
        embedded = self.embed(x) if x.dtype == torch.int64 else x @ self.embed.weight
        h = embedded.transpose(1, 2)
        features = torch.cat([F.relu(conv(h)).amax(dim=2) for conv in self.convs], dim=1)
        return self.head(self.dropout(self.highway(features))).squeeze(1)
