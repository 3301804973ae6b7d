"""What ``ganforge serve`` offers for tabular runs: ``POST /generate`` -> CSV rows (``text/csv``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ganforge.errors import GanforgeError
from ganforge.families.base import Reply
from ganforge.families.tabular.generate import TabularModel, generate_rows
from ganforge.families.tabular.io import csv_text

MAX_ROWS = 10_000


class TableRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n: int = Field(100, ge=1, le=MAX_ROWS, description=f"rows, at most {MAX_ROWS:,}")
    seed: int = Field(0, ge=0, lt=2**31)
    where: dict[str, str] | str | None = Field(
        None, description='a condition on a categorical column: {"city": "Lima"} or "city=Lima"')

    @field_validator("where", mode="before")
    @classmethod
    def _scalar_values(cls, value: object) -> object:
        if isinstance(value, dict):
            return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}
        return value

    def pairs(self) -> tuple[tuple[str, str], ...]:
        if not self.where:
            return ()
        if isinstance(self.where, str):
            column, sep, value = self.where.partition("=")
            if not sep:
                raise GanforgeError(f"where expects COLUMN=VALUE, got '{self.where}'")
            return ((column.strip(), value.strip()),)
        return tuple(self.where.items())


def generate_csv(model: TabularModel, request: TableRequest) -> Reply:
    with model.lock:
        rows = generate_rows(model, request.n, request.seed, request.pairs())
    return Reply(csv_text(rows).encode("utf-8"), "text/csv")
