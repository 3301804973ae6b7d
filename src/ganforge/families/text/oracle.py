"""The oracle of the SeqGAN benchmark: a randomly initialised LSTM that *is* the true distribution.

Its weights are drawn from N(0, init_std) with a generator seeded by ``seed`` and its samples with a
second generator seeded by ``seed + 1``, so (seed, vocab_size, length, hidden_dim, init_std) fix every
sequence. The oracle NLL of generated sequences, ``-mean log p_oracle(x)`` per token, measures quality.
Oracle tokens 0..V-1 are the ids ``SPECIALS..SPECIALS+V-1`` of the run's vocabulary.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganforge.families.text.config import OracleConfig
from ganforge.families.text.vocab import SPECIALS

OFFSET = len(SPECIALS)


class Oracle(nn.Module):
    """An LSTM language model over ``vocab_size`` tokens with a start embedding (index ``vocab_size``)."""

    def __init__(self, spec: OracleConfig) -> None:
        super().__init__()
        self.spec = spec
        v, h = spec.vocab_size, spec.hidden_dim
        self.embed = nn.Embedding(v + 1, h)
        self.lstm = nn.LSTM(h, h, batch_first=True)
        self.out = nn.Linear(h, v)
        weights = torch.Generator().manual_seed(spec.seed)
        with torch.no_grad():
            for _, param in sorted(self.named_parameters()):
                param.copy_(torch.randn(param.shape, generator=weights) * spec.init_std)
        self.requires_grad_(False)
        self.eval()

    def _start(self, n: int) -> Tensor:
        return torch.full((n, 1), self.spec.vocab_size, dtype=torch.int64)

    @torch.no_grad()
    def generate(self, n: int, generator: torch.Generator, batch: int = 1000) -> Tensor:
        """``n`` sequences [n, length] of oracle tokens (0..V-1)."""
        chunks = []
        for start in range(0, n, batch):
            m = min(batch, n - start)
            token, state, seq = self._start(m), None, []
            for _ in range(self.spec.length):
                output, state = self.lstm(self.embed(token), state)
                probs = F.softmax(self.out(output[:, -1]).double(), dim=-1)
                token = torch.multinomial(probs, 1, generator=generator)
                seq.append(token)
            chunks.append(torch.cat(seq, dim=1))
        return torch.cat(chunks)

    @torch.no_grad()
    def nll(self, tokens: Tensor, batch: int = 1000) -> float:
        """Mean negative log-likelihood per token (nats) of sequences of oracle tokens [n, length]."""
        total, count = 0.0, 0
        for start in range(0, len(tokens), batch):
            x = tokens[start : start + batch].cpu()
            inputs = torch.cat([self._start(len(x)), x[:, :-1]], dim=1)
            output, _ = self.lstm(self.embed(inputs))
            logits = self.out(output).double()
            total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x.reshape(-1), reduction="sum"))
            count += x.numel()
        return total / max(count, 1)


def oracle_data(spec: OracleConfig) -> tuple[Oracle, Tensor, Tensor]:
    """The oracle and its train and test sequences, as run ids (oracle token + ``OFFSET``)."""
    oracle = Oracle(spec)
    samples = oracle.generate(spec.train_samples + spec.test_samples,
                              torch.Generator().manual_seed(spec.seed + 1))
    samples = samples + OFFSET
    return oracle, samples[: spec.train_samples], samples[spec.train_samples :]


def oracle_nll(oracle: Oracle, run_ids: Tensor) -> float:
    """Oracle NLL of sequences of run ids; ids that are not oracle tokens are refused by the caller's mask."""
    return oracle.nll((run_ids - OFFSET).clamp(0, oracle.spec.vocab_size - 1))
