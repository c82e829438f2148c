"""`ccsync init`: set up or change this device's id, remote and privacy."""

from __future__ import annotations

import re
from dataclasses import dataclass

from syncer import store
from syncer.commands.context import DEFAULT_WAIT, Context, default_device, writer_lock
from syncer.commands.sync import sync
from syncer.errors import ConfigError, UsageError
from syncer.git import local, urls
from syncer.git.sync import PushResult
from syncer.ledger import DEVICE_ID_PATTERN, OWNER_PATTERN
from syncer.published import read_last_sync
from syncer.store import Config, Privacy


@dataclass
class InitResult:
    config: Config
    created: bool
    remote: str  # redacted, for display
    pushed: PushResult | None = None
    renamed: bool = False  # the names already recorded were rewritten for a new privacy setting


def check_device(device: str) -> str:
    if not re.fullmatch(DEVICE_ID_PATTERN, device):
        raise UsageError(
            f"device id {device!r} is not valid: use 1-63 lowercase letters, digits and dashes, "
            "starting with a letter or digit (for example: ccsync init --device work-laptop)"
        )
    return device


def init(
    ctx: Context, *, device: str | None, remote: str | None, privacy: Privacy | None, force: bool = False,
    owner: str | None = None,
) -> InitResult:
    """Create or change this device's config. Changing the device id of a device that already
    has a ledger would orphan its file in the sync repo, so that needs --force."""
    if device is not None:
        check_device(device)
    if owner and not re.fullmatch(OWNER_PATTERN, owner):
        raise UsageError(f"owner {owner!r} is not valid: use 1-64 characters, no control characters")
    if remote is not None:
        remote = urls.validate_remote(remote)
        local.prepare_local_remote(remote)
    with writer_lock(ctx, wait=DEFAULT_WAIT):
        try:
            existing = store.load_config(ctx.paths)
        except ConfigError:
            if not force:
                raise
            existing = None
        if existing is None:
            cfg = store.new_config(device or default_device(), privacy=privacy or "names")
            created = True
        else:
            cfg, created = existing, False
            if device is not None and device != cfg.device:
                # Until a sync has published this device's file, a rename orphans nothing.
                if ctx.paths.ledger.exists() and read_last_sync(ctx.paths) is not None and not force:
                    raise UsageError(
                        f"this device already records as {cfg.device!r}; renaming it starts a new file in the "
                        f"sync repo. To do it anyway: ccsync init --device {device} --force"
                    )
                cfg = cfg._replace(device=device)
            if privacy is not None:
                cfg = cfg._replace(privacy=privacy)
        if remote is not None:
            cfg = cfg._replace(remote=remote)
        if owner is not None:
            cfg = cfg._replace(owner=owner or None)
        store.save_config(ctx.paths, cfg)
        store.rename_ledger(ctx.paths, cfg.device)
        store.set_owner(ctx.paths, cfg.owner)
        renamed = existing is not None and existing.privacy != cfg.privacy and store.apply_privacy(ctx.paths, cfg)
    result = InitResult(cfg, created, urls.redact(cfg.remote or ""), renamed=renamed)
    if remote is not None or (existing is not None and existing.device != cfg.device):
        # Push what this device has (and the embedded repo's history, if the remote is empty):
        # this is also where the sync repo says whether the id belongs to another machine.
        try:
            result.pushed = sync(ctx, run_scan=False).sync
        except ConfigError as exc:
            if force:
                raise
            _put_back(ctx, existing)
            raise type(exc)(f"{exc.message}. This init changed nothing; if this machine replaces that one, "
                            "run it again with --force, then: ccsync restore") from None
    return result


def _put_back(ctx: Context, previous: Config | None) -> None:
    """A refused init changes nothing: the config (and the ledger's device id) as they were."""
    with writer_lock(ctx, wait=DEFAULT_WAIT):
        if previous is None:
            ctx.paths.config.unlink(missing_ok=True)
        else:
            store.save_config(ctx.paths, previous)
            store.rename_ledger(ctx.paths, previous.device)
            store.set_owner(ctx.paths, previous.owner)
