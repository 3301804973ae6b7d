"""The config of a tabular run (CTGAN-class): data, model, loss, optimizer and evaluation sections."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ganforge.config import DataConfig, GANOptimConfig, RunConfig
from ganforge.schema import StrictModel

ColumnKind = Literal["continuous", "integer", "categorical", "boolean", "datetime", "constant", "id", "drop"]


class TabularDataConfig(DataConfig):
    """Which table, how its columns are typed, and the held-out split."""

    name: str = Field("fair", description="fair, anes96, or table:PATH (a CSV file)")
    batch_size: int = Field(500, gt=0, description="rows per batch (a multiple of model.pac)")
    columns: dict[str, ColumnKind] = Field(
        default_factory=dict, description="column kinds that override the inferred ones, e.g. {zip: categorical}"
    )
    max_numeric_levels: int = Field(10, ge=0, description="numeric columns with at most this many distinct values "
                                    "are categorical")
    max_categories: int = Field(1000, gt=1, description="more levels than this in a categorical column is refused")
    holdout: float = Field(0.2, ge=0, lt=0.9, description="fraction of rows held out for `ganforge eval` "
                           "(never trained on)")


class CTGANConfig(StrictModel):
    """CTGAN's networks: residual generator, packed discriminator with dropout."""

    arch: Literal["ctgan"] = "ctgan"
    z_dim: int = Field(128, gt=0)
    g_dims: list[int] = Field(default_factory=lambda: [256, 256], description="generator residual layer widths")
    d_dims: list[int] = Field(default_factory=lambda: [256, 256], description="discriminator layer widths")
    pac: int = Field(10, ge=1, description="rows packed into one discriminator input (PacGAN)")
    dropout: float = Field(0.5, ge=0, lt=1, description="discriminator dropout")
    chained_heads: bool = Field(False, description="each column's output head also reads the columns generated "
                                "before it, so a row's levels are drawn together, not independently")
    tau: float = Field(0.2, gt=0, description="Gumbel-softmax temperature of generated one-hots in training")
    max_modes: int = Field(10, ge=1, le=50, description="Gaussian mixture components per continuous column")
    max_value_modes: int = Field(100, ge=0, le=1000, description="a numeric column with at most this many distinct "
                                 "values (each seen 10+ times on average) gets one exact mode per value instead "
                                 "of a mixture; 0: always a mixture")


class TabularLossConfig(StrictModel):
    """WGAN-GP with the conditional generator's cross-entropy term."""

    name: Literal["wgan-gp"] = "wgan-gp"
    gp_weight: float = Field(10.0, ge=0, description="gradient penalty weight")
    cond_weight: float = Field(1.0, ge=0, description="weight of the cross-entropy that makes G honour the condition")
    target_weight: float = Field(0.0, ge=0, description="weight of the auxiliary classifier term (CTAB-GAN): a "
                                 "classifier trained on real rows predicts eval.target from the other columns, and "
                                 "G's rows are pushed to agree with it; 0: off")


class TabularOptimConfig(GANOptimConfig):
    """Adam (CTGAN's settings by default), with weight decay and an optional learning-rate decay."""

    g_lr: float = Field(2e-4, gt=0)
    d_lr: float = Field(2e-4, gt=0)
    g_betas: tuple[float, float] = (0.5, 0.9)
    d_betas: tuple[float, float] = (0.5, 0.9)
    weight_decay: float = Field(1e-6, ge=0)


class TabularEvalConfig(StrictModel):
    """What `ganforge eval` measures on a tabular run."""

    target: str | None = Field(None, description="column predicted for ML efficacy; None: the table's default "
                               "(last categorical column for table:PATH)")
    max_rows: int = Field(20_000, gt=10, description="at most this many rows per table in the metrics")


class TabularConfig(RunConfig):
    """A tabular run."""

    family: Literal["tabular"] = "tabular"
    data: TabularDataConfig = Field(default_factory=TabularDataConfig)
    model: CTGANConfig = Field(default_factory=CTGANConfig)
    loss: TabularLossConfig = Field(default_factory=TabularLossConfig)
    optim: TabularOptimConfig = Field(default_factory=TabularOptimConfig)
    eval: TabularEvalConfig = Field(default_factory=TabularEvalConfig)
