"""The sync repo's remote as the use cases reach it: the configured one or the embedded default,
with a token for https and the user's own ssh command (never a prompt)."""

from __future__ import annotations

from typing import TypedDict

from syncer.commands.context import Context
from syncer.git import local, urls
from syncer.git.limits import network_timeout
from syncer.store import Config

FETCH_WAIT = 30.0
"""`total` would rather show the last fetch than wait out a long sync."""


def remote_of(ctx: Context, cfg: Config) -> str:
    if cfg.remote:
        return cfg.remote
    local.init_bare_remote(ctx.paths.embedded_remote)
    return str(ctx.paths.embedded_remote)


class Access(TypedDict):
    credentials: tuple[str, str] | None
    ssh_command: str | None
    timeout: float


def access(ctx: Context, remote: str) -> Access:
    """How to reach `remote`: a token for https, the user's own ssh command (never a prompt)."""
    return {
        "credentials": urls.credentials_for(remote, ctx.env),
        "ssh_command": ctx.env.get("GIT_SSH_COMMAND") or None,  # given BatchMode and timeouts
        "timeout": network_timeout(ctx.env),
    }
