"""Running ``ganforge`` through ``ganforge.cli.main`` in this process, and checking its one-line errors."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from ganforge.cli import main


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_main(monkeypatch, capsys, args: list[str]) -> Result:
    """``ganforge ARGS`` through ``ganforge.cli.main`` in this process."""
    monkeypatch.setattr(sys, "argv", ["ganforge", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return Result(exited.value.code, captured.out, captured.err)


def assert_one_line_error(result: Result, *needles: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]
