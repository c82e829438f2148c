"""What every use case is given (the state folder, environment, home folder and clock), and the
device's config, created with defaults on first use."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from syncer import store
from syncer.paths import StatePaths
from syncer.store import Config

DEFAULT_WAIT = 600.0
"""Seconds a command waits for another ccsync to finish writing, unless told not to."""


class Context(NamedTuple):  # (every read command's: a frozen dataclass costs it 1.5 ms to create)
    paths: StatePaths
    env: Mapping[str, str]
    home: Path
    now: datetime  # aware
    on_lock_wait: Callable[[int | None], None] | None = None  # told once when another ccsync holds the lock


def writer_lock(ctx: Context, *, wait: float) -> AbstractContextManager[None]:
    """The state folder's writer lock, waiting at most `wait` seconds (see store.writer_lock)."""
    return store.writer_lock(ctx.paths, wait=wait, on_wait=ctx.on_lock_wait)


def normalise_device(name: str) -> str:
    """A device id from a host name: `Ana's MacBook.local` -> `ana-s-macbook`."""
    name = name.split(".")[0].lower()
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name).strip("-")
    return re.sub(r"-{2,}", "-", cleaned)[:63].strip("-") or "device"


def default_device() -> str:
    import socket  # noqa: PLC0415 - only a first run needs it, and it costs a read command 5 ms

    return normalise_device(socket.gethostname())


def config(ctx: Context) -> Config:
    """The device's config, set up with defaults on first use so `ccsync` works at once."""
    found = store.load_config(ctx.paths)
    if found is None:
        found = store.create_config(ctx.paths, store.new_config(default_device()))
    return found
