"""The config of a text run: data (oracle, fortunes, text:PATH), the language model, the GAN method,
optimizers and the evaluation protocol. Unknown keys are refused (every section is a StrictModel)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganforge.config import DataConfig, RunConfig, TrainConfig
from ganforge.schema import StrictModel

METHODS = ("mle", "seqgan", "gumbel")


class OracleConfig(StrictModel):
    """The SeqGAN benchmark sized for a CPU: a randomly initialised LSTM is the true distribution."""

    seed: int = Field(0, ge=0, lt=2**31, description="seed of the oracle's weights and of its samples")
    vocab_size: int = Field(500, ge=2, le=50_000, description="tokens the oracle emits")
    length: int = Field(20, ge=2, le=200, description="tokens per sequence (fixed length, no end token)")
    hidden_dim: int = Field(32, ge=1, le=1024, description="embedding and LSTM width of the oracle")
    train_samples: int = Field(10_000, ge=1, description="training sequences drawn from the oracle")
    test_samples: int = Field(2_000, ge=1, description="held-out sequences drawn from the oracle")
    init_std: float = Field(1.0, gt=0, description="std of the oracle's normal initialisation (SeqGAN: 1)")


class TextDataConfig(DataConfig):
    """Which text to train on: ``oracle``, ``fortunes`` or ``text:PATH`` (one example per line)."""

    name: str = Field("fortunes", description="oracle, fortunes, or text:PATH")
    batch_size: int = Field(64, gt=0)
    max_len: int = Field(24, ge=2, le=500, description="tokens per example; longer lines are cut (and counted)")
    min_len: int = Field(3, ge=1, description="fortunes: shortest sentence kept, in tokens")
    vocab_size: int = Field(3000, ge=8, le=200_000, description="largest word vocabulary (built on the train split)")
    min_count: int = Field(2, ge=1, description="words seen fewer times in the train split become <unk>")
    lowercase: bool = Field(True, description="lower-case text before tokenizing")
    test_fraction: float = Field(0.1, gt=0, lt=1, description="held-out share of fortunes / text:PATH examples")
    max_examples: int = Field(50_000, ge=2, description="fortunes / text:PATH: use at most this many examples")
    oracle: OracleConfig = Field(default_factory=OracleConfig)


class TextModelConfig(StrictModel):
    """The generator (an LSTM language model) and the CNN discriminator of the GAN methods."""

    arch: Literal["lstm"] = "lstm"
    embed_dim: int = Field(64, ge=1, le=4096)
    hidden_dim: int = Field(128, ge=1, le=4096)
    d_embed_dim: int = Field(64, ge=1, le=4096, description="discriminator token embedding")
    d_filters: int = Field(64, ge=1, le=4096, description="discriminator filters per window width")
    d_windows: list[int] = Field(default_factory=lambda: [2, 3, 4, 5], description="CNN window widths (tokens)")
    d_dropout: float = Field(0.25, ge=0, lt=1)


class GanConfig(StrictModel):
    """How the generator is trained: maximum likelihood, SeqGAN or a Gumbel-softmax (RelGAN-style) GAN."""

    method: Literal["mle", "seqgan", "gumbel"] = Field("mle", description="mle, seqgan or gumbel")
    pretrain_steps: int = Field(0, ge=0, description="MLE steps before the adversarial ones (GAN methods)")
    d_pretrain_steps: int = Field(300, ge=0, description="the last N MLE steps also train D (on the current G's "
                                  "samples), so the adversarial steps start with a D that knows real from fake")
    d_steps: int = Field(1, ge=1, le=20, description="discriminator updates per adversarial step")
    rollouts: int = Field(4, ge=1, le=64, description="seqgan: Monte-Carlo rollouts per prefix")
    rollout_decay: float = Field(0.8, ge=0, lt=1, description="seqgan: the rollout policy trails G (SeqGAN: 0.8)")
    baseline: bool = Field(True, description="seqgan: subtract the batch-mean reward per position")
    beta_max: float = Field(100.0, ge=1, description="gumbel: final inverse temperature (annealed from 1)")
    mle_weight: float = Field(0.0, ge=0, description="gumbel/seqgan: weight of an MLE term kept in G's loss")


class TextOptimConfig(StrictModel):
    """Adam for the generator (MLE and adversarial rates) and the discriminator."""

    mle_lr: float = Field(5e-3, gt=0, description="generator learning rate of the MLE steps")
    g_lr: float = Field(1e-4, gt=0, description="generator learning rate of the adversarial steps")
    d_lr: float = Field(1e-4, gt=0)
    betas: tuple[float, float] = (0.9, 0.999)
    grad_clip: float = Field(5.0, ge=0, description="max gradient norm of G; 0 turns clipping off")


class TextEvalConfig(StrictModel):
    """What ``ganforge eval`` measures by default."""

    n: int = Field(500, ge=2, le=100_000, description="samples per temperature")
    temperatures: list[float] = Field(default_factory=lambda: [0.7, 0.85, 1.0, 1.2],
                                      description="the temperature sweep (quality-diversity curve)")
    references: int = Field(2000, ge=1, description="held-out references for BLEU (and NLL)")
    self_bleu_n: int = Field(300, ge=2, description="samples used for Self-BLEU (it costs n^2)")


class TextConfig(RunConfig):
    """A text run: ``family: text`` and its sections."""

    family: Literal["text"] = "text"
    data: TextDataConfig = Field(default_factory=TextDataConfig)
    model: TextModelConfig = Field(default_factory=TextModelConfig)
    gan: GanConfig = Field(default_factory=GanConfig)
    optim: TextOptimConfig = Field(default_factory=TextOptimConfig)
    train: TrainConfig = Field(default_factory=lambda: TrainConfig(steps=1000, ema_decay=0.0, sample_every=250,
                                                                   checkpoint_every=250, grid_size=16))
    eval: TextEvalConfig = Field(default_factory=TextEvalConfig)
