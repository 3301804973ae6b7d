"""Base class for every typed configuration section."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A config section that rejects unknown keys and re-validates on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, protected_namespaces=())
