"""A recipe's checkpoint state: the ``state_dict`` of each named part (networks, optimizers, EMA, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def parts_state(owner: object, names: Sequence[str]) -> dict[str, Any]:
    """``{name: owner.<name>.state_dict()}``, with None for a part the owner does not have (set to None)."""
    return {name: None if getattr(owner, name) is None else getattr(owner, name).state_dict() for name in names}


def load_parts(owner: object, state: dict[str, Any], required: Sequence[str], optional: Sequence[str] = ()) -> None:
    """Load each part from ``state``: every ``required`` one (a missing key is an error), and each ``optional``
    one only when both the owner has it and the state holds it (older checkpoints, disabled features)."""
    for name in required:
        getattr(owner, name).load_state_dict(state[name])
    for name in optional:
        part = getattr(owner, name)
        if part is not None and state.get(name):
            part.load_state_dict(state[name])
