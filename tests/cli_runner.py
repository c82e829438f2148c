"""The type of the `cli` fixture (conftest.py)."""

from __future__ import annotations

from typing import Protocol


class Cli(Protocol):
    def __call__(self, *args: str) -> tuple[int, str, str]:
        """Run `ccsync ARGS` in-process: (exit code, stdout, stderr)."""
        ...
