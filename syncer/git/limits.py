"""Every limit on what the sync repo may cost, in one place: how large a shared file or a
fetched pack may be (other devices' files are untrusted input), and how long a network call may
take: every connect and read is bounded, and so is a whole sync, so a nightly run always ends
(DESIGN.md §4) even against a server that accepts the connection and never answers.

No dulwich here. The per-call bound is a socket timeout (git://, and urllib3's timeout for
http); ssh gets ConnectTimeout and keep-alive options; and a wall-clock deadline (SIGALRM, in
the main thread on POSIX) ends whatever still blocks, an ssh that never answers included.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType

from syncer.errors import RemoteUnavailable

MAX_DEVICE_FILE = 16 * 1024 * 1024
"""Largest device file (and goal.json) any device reads from the sync repo, and so the largest
this device publishes (`syncer.fold` folds old history to stay under it): an object over it is
never inflated, whichever transport brought it."""

MAX_INCOMING_PACK = 1024 * 1024 * 1024
"""Largest pack a fetch accepts from the network (on disk, before it is filtered)."""

NETWORK_TIMEOUT = 30.0
"""Seconds any one connect or read may wait; `CCSYNC_NETWORK_TIMEOUT` overrides it."""

DEADLINE_FACTOR = 10
"""A whole sync (fetch, push, retries) may take this many network timeouts."""

_deadline: list[float] = []  # the monotonic end of the operation in progress, if any
_at_deadline: list[Callable[[], None]] = []  # what ends the helpers it started (an ssh)


class NetworkDeadline(TimeoutError):
    """The whole operation ran out of time."""


def network_timeout(env: Mapping[str, str]) -> float:
    try:
        value = float(env.get("CCSYNC_NETWORK_TIMEOUT", ""))
    except ValueError:
        return NETWORK_TIMEOUT
    return value if 0 < value < 86400 else NETWORK_TIMEOUT


def ssh_options(timeout: float) -> str:
    """Options for the ssh command: never prompt, give up on a silent server."""
    seconds = max(1, round(timeout))
    alive = max(1, round(timeout / 3))
    return (
        f"-o BatchMode=yes -o ConnectTimeout={seconds} -o ServerAliveInterval={alive} "
        "-o ServerAliveCountMax=3"
    )


def at_deadline(end: Callable[[], None]) -> None:
    """Call `end` if the operation in progress runs out of time (kill a helper process, which
    would otherwise keep dulwich waiting for it to exit)."""
    _at_deadline.append(end)


def _expired(signum: int, frame: FrameType | None) -> None:
    for end in _at_deadline:
        try:
            end()
        except OSError:
            pass
    raise NetworkDeadline("no answer before the deadline")


@contextmanager
def bounded(timeout: float) -> Iterator[None]:
    """Run a network operation with `timeout` on every socket and a deadline over it all.
    Nested calls share the outermost deadline (a sync's fetch and push count together)."""
    if _deadline:
        yield
        return
    end = time.monotonic() + timeout * DEADLINE_FACTOR
    _deadline.append(end)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    alarm = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    previous_handler = signal.signal(signal.SIGALRM, _expired) if alarm else None
    if alarm:
        signal.setitimer(signal.ITIMER_REAL, timeout * DEADLINE_FACTOR)
    try:
        yield
    except NetworkDeadline:
        # Past the network calls (which report their own remote): no less temporary.
        raise RemoteUnavailable(
            f"the sync did not finish within {timeout * DEADLINE_FACTOR:g} seconds; local data is saved "
            "and the next run retries"
        ) from None
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
        socket.setdefaulttimeout(previous_timeout)
        _deadline.clear()
        _at_deadline.clear()
