"""Errors a user can see: each carries the exit code of DESIGN.md §5 and a one-line message."""

from __future__ import annotations

EX_USAGE = 2
EX_DATAERR = 65
EX_IOERR = 74
EX_TEMPFAIL = 75
EX_CONFIG = 78


class CcsyncError(Exception):
    """Base of every error the CLI turns into one line on stderr and an exit code."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(CcsyncError):
    exit_code = EX_USAGE


class LedgerCorrupt(CcsyncError):
    exit_code = EX_DATAERR


class GoalCorrupt(CcsyncError):
    """The sync repo's goal.json does not parse or validate: set it again."""

    exit_code = EX_DATAERR


class RemoteCorrupt(CcsyncError):
    """The sync repo sent what no device may take in (a pack over the size limit)."""

    exit_code = EX_DATAERR


class DiskError(CcsyncError):
    exit_code = EX_IOERR


class LockBusy(CcsyncError):
    exit_code = EX_TEMPFAIL


class RemoteUnavailable(CcsyncError):
    """The remote could not be reached, refused us, or kept moving: local data is safe."""

    exit_code = EX_TEMPFAIL


class ConfigError(CcsyncError):
    exit_code = EX_CONFIG


class SchemaTooNew(ConfigError):
    """A file written by a newer ccsync: refused rather than misread."""


class RemoteRefused(ConfigError):
    """The remote cannot be used until the user acts (a refused token, a missing folder remote,
    no permission on the local copy): retrying alone cannot help."""


class LogRootMissing(ConfigError):
    """No source's log folder exists, or a folder named in the environment does not: a typo
    that would otherwise record nothing, silently, every night."""
