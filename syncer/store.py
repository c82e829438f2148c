"""The state folder on disk: config, ledger, local scan state, backups, and the writer lock.

The only module that imports filelock. Every write is atomic (temp file in the same folder,
fsync, `os.replace`, fsync the folder); a failed write leaves the old file byte-identical and
ends the run (DiskError, exit 74): it is never retried blindly.

Ledger and local state commit together through generations: the state for ledger generation
N is written to `state-N.json` first, then `ledger.json` (carrying N) replaces the old one.
A crash before that replace leaves the old ledger with its own old state; after it, the new
pair. The ledger's `generation` says which state file belongs to it.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import orjson

from syncer import trust
from syncer.documents import canonical, refuse_newer
from syncer.errors import ConfigError, DiskError, LedgerCorrupt, LockBusy, SchemaTooNew, UsageError
from syncer.ledger import Ledger, document_without_sessions, dump_ledger, ledger_from_document
from syncer.paths import StatePaths

if TYPE_CHECKING:
    from syncer.checkpoints import LocalState
    from syncer.keystore import KeyStore
    from syncer.tally import Tally

# The key index (sqlite3), the tally and filelock are imported by the functions that write:
# a read command loads the config and the ledger only, and pays for nothing else.

BACKUPS_KEPT = 5
Privacy = Literal["names", "full", "hashed"]


# Config (and the scan state, syncer/checkpoints.py) are plain: their rules are their schemas'
# (`syncer/schemas/config.py`, `state.py`), which check every file read or written.


class Config(NamedTuple):
    device: str
    install_id: str
    # Keyed hashes of project names (privacy = hashed) use this device-local secret.
    hash_key: str
    schema_version: Literal[1] = 1
    privacy: Privacy = "names"
    remote: str | None = None
    owner: str | None = None  # written into the ledger, which the sync repo shares
    # Install ids this machine recorded under before it adopted another machine's record
    # (`ccsync restore`): their files in the sync repo go once this ledger holds them in full.
    former_install_ids: tuple[str, ...] = ()


def config_from_document(doc: Mapping[str, Any]) -> Config:
    """The config in a config.json document its schema accepted (pure: no validation here)."""
    return Config(
        schema_version=doc.get("schema_version", 1), device=doc["device"], install_id=doc["install_id"],
        privacy=doc.get("privacy", "names"), hash_key=doc["hash_key"], remote=doc.get("remote"),
        owner=doc.get("owner"), former_install_ids=tuple(doc.get("former_install_ids", ())),
    )


class KeyIndex(NamedTuple):
    """Every key ever seen, with its per-field maxima (never pruned). Large: read only when
    there is something new. `covered_before`: see `Tally.covered_before`."""

    generation: int
    covered_before: int | None
    entries: dict[str, list[Any]]


def new_config(device: str, *, privacy: Privacy = "names", remote: str | None = None) -> Config:
    import secrets  # only a first run needs it; a read command would pay 2 ms (base64, hmac)

    return Config(
        device=device, install_id=secrets.token_hex(16), privacy=privacy, hash_key=secrets.token_hex(32),
        remote=remote,
    )


def ensure_home(paths: StatePaths) -> None:
    """Create the state folder private to this user (0700)."""
    try:
        paths.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        if sys.platform != "win32" and paths.home.stat().st_mode & 0o077:
            paths.home.chmod(0o700)
    except OSError as exc:
        raise DiskError(f"cannot create the state folder {paths.home}: {exc.strerror}") from None


def load_config(paths: StatePaths) -> Config | None:
    data = _read_optional(paths.config)
    if data is None:
        return None
    return trust.parse(paths.trusted, "config", data, validate=lambda data: parse_config(data, what=str(paths.config)),
                       build=config_from_document)


def parse_config(data: bytes, *, what: str) -> Config:
    """The config in config.json's bytes, validated by its schema (ConfigError, or SchemaTooNew
    for a later ccsync's); `what` names the file in the message."""
    from pydantic import ValidationError

    from syncer.schemas.config import Config as Schema

    try:
        raw = orjson.loads(data)
        refuse_newer(raw, supported=1, what=what)
        Schema.model_validate(raw)
    except (orjson.JSONDecodeError, ValidationError):
        raise ConfigError(
            f"{what} is not a valid ccsync config; fix it or set it up again with: ccsync init --force"
        ) from None
    return config_from_document(raw)


def create_config(paths: StatePaths, config: Config) -> Config:
    """Install `config` unless another process created one first; returns the one in force.
    (Two first runs at once must not each invent an install id.)"""
    ensure_home(paths)
    tmp = paths.config.with_name(f".config.{os.getpid()}.new")
    write_atomic(tmp, _dump_config(config))
    try:
        os.link(tmp, paths.config)
    except FileExistsError:
        pass
    except OSError:  # no hard links here (some network or FAT file systems)
        if not paths.config.exists():
            os.replace(tmp, paths.config)
    finally:
        tmp.unlink(missing_ok=True)
    found = load_config(paths)
    assert found is not None
    return found


def _dump_config(config: Config) -> bytes:
    """config.json's bytes, checked by its schema: a config made or changed from input that
    breaks its rules is a bug, and is never written (pydantic's ValidationError)."""
    from syncer.schemas.config import Config as Schema

    data = canonical(config._asdict())
    Schema.model_validate_json(data)
    return data


def save_config(paths: StatePaths, config: Config) -> None:
    ensure_home(paths)
    data = _dump_config(config)
    write_atomic(paths.config, data)
    trust.remember(paths.trusted, "config", data)


@contextmanager
def writer_lock(
    paths: StatePaths, *, wait: float, on_wait: Callable[[int | None], None] | None = None
) -> Iterator[None]:
    """One writer at a time; `wait` seconds at most (0: fail at once), then LockBusy (exit 75).
    `on_wait(pid of the holder, if known)` is called once when the lock is not free at once."""
    from filelock import FileLock, Timeout

    ensure_home(paths)
    lock = FileLock(str(paths.lock), mode=0o600)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if on_wait is not None and wait > 0:
            on_wait(_lock_holder(paths))
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise LockBusy(
                f"another ccsync is writing to {paths.home} (lock {paths.lock}); this run changed nothing, "
                "the next one catches up"
            ) from None
    try:
        _note_holder(paths)
        yield
    finally:
        lock.release()


def _note_holder(paths: StatePaths) -> None:
    """Our pid beside the lock, for whoever waits next (no fsync: only a message depends on it)."""
    try:
        fd = os.open(paths.lock_holder, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, str(os.getpid()).encode())
        finally:
            os.close(fd)
    except OSError:
        pass


def _lock_holder(paths: StatePaths) -> int | None:
    try:
        return int(paths.lock_holder.read_text())
    except (OSError, ValueError):
        return None


def ledger_generation(paths: StatePaths) -> int:
    """The generation of the ledger on disk, without validating it (the nothing-new path
    only needs to find its state file; anything that uses the ledger validates it)."""
    try:
        raw = orjson.loads(paths.ledger.read_bytes())
    except FileNotFoundError:
        return 0
    except (OSError, orjson.JSONDecodeError):
        return -1  # unreadable: no state belongs to it; read_ledger reports why
    generation = raw.get("generation") if isinstance(raw, dict) else None
    return generation if isinstance(generation, int) else -1


def read_state(paths: StatePaths, generation: int) -> LocalState | None:
    data = _read_optional(paths.state(generation))
    if data is None:
        return None
    from syncer.checkpoints import state_from_document

    try:
        state = trust.parse(paths.trusted, "state", data, validate=_checked_state, build=state_from_document)
    except ValueError:  # refused by its schema: local state is a cache of the logs, and the
        return None  # ledger guards against re-counting without it
    return state if state.generation == generation else None


def parse_state(data: bytes) -> LocalState | None:
    """The scan state in a state file's bytes, or None when its schema refuses them."""
    from pydantic import ValidationError

    from syncer.checkpoints import state_from_document
    from syncer.schemas.state import LocalState as Schema

    try:
        Schema.model_validate_json(data)
    except ValidationError:
        return None
    return state_from_document(orjson.loads(data))


def _checked_state(data: bytes) -> LocalState:
    state = parse_state(data)
    if state is None:
        raise ValueError("refused by the state's schema")
    return state


def read_index(paths: StatePaths, generation: int) -> KeyIndex | None:
    """The key index of `generation` as versions before 0.2 wrote it (JSON, rewritten whole
    on every save), or None if it is missing or not in the shape they wrote
    (the ledger guards against re-counting without it). Checked by shape, not by pydantic:
    every scan with something new reads it, and validating each entry would cost more than
    the rest of a small scan."""
    data = _read_optional(paths.index(generation))
    if data is None:
        return None
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if type(raw) is not dict or raw.get("generation") != generation:
        return None
    # Versions before 0.2 pruned keys older than "pruned_before" and kept shorter entries.
    covered, entries = raw.get("covered_before", raw.get("pruned_before")), raw.get("entries")
    if (covered is not None and type(covered) is not int) or type(entries) is not dict:
        return None
    from syncer.tally import INDEX_ENTRY_LENGTH, V1_ENTRY_LENGTH, upgrade_entry

    if not all(type(e) is list and len(e) == INDEX_ENTRY_LENGTH for e in entries.values()):
        if not all(type(e) is list and len(e) == V1_ENTRY_LENGTH for e in entries.values()):
            return None
        entries = {key: upgrade_entry(e) for key, e in entries.items()}
    return KeyIndex(generation, covered, entries)


def _read_optional(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DiskError(f"cannot read {path}: {exc.strerror}") from None


def read_ledger(paths: StatePaths) -> Ledger | None:
    data = _read_optional(paths.ledger)
    if data is None:
        return None
    try:
        return load_ledger(paths, data, what=f"ledger {paths.ledger}")
    except LedgerCorrupt as exc:
        backup = latest_backup(paths)
        hint = (
            f"The last good copy is {backup}; restore it with: ccsync restore --from-backup"
            if backup
            else "Rebuild it from the sync repo with: ccsync restore"
        )
        raise LedgerCorrupt(f"{exc.message}; it was not modified. {hint}") from None


def load_ledger(paths: StatePaths, data: bytes, what: str, sessions: bool = True, known_as: bytes | None = None
                ) -> Ledger:
    """A ledger's bytes (ours or a peer's) as a value: validated by its schema, unless the
    schema accepted these very bytes before (syncer/trust.py; `known_as` as `trust.parse` takes
    it). Without `sessions`, bytes accepted before are built without their sessions, for a
    caller that reads none."""

    def validate(data: bytes) -> Ledger:
        from syncer.schemas import ledger as schema

        return schema.parse_ledger(data, what=what)

    return trust.parse(paths.trusted, "ledger", data, validate=validate, build=ledger_from_document,
                       decode=orjson.loads if sessions else document_without_sessions, known_as=known_as)


def _write_ledger(paths: StatePaths, ledger: Ledger) -> None:
    """The ledger's bytes, proven to read back, installed atomically; their digest remembered,
    so the read commands that follow build them without validating again."""
    from syncer.schemas.ledger import checked_bytes

    data = checked_bytes(ledger)
    write_atomic(paths.ledger, data)
    trust.remember(paths.trusted, "ledger", data)


def open_keys(paths: StatePaths, generation: int) -> KeyStore | None:
    """The permanent key index of the ledger of `generation`, if it has one."""
    from syncer import keystore

    return keystore.open_index(paths.keys, generation)


def new_keys(paths: StatePaths, generation: int) -> KeyStore:
    from syncer import keystore

    return keystore.create_index(paths.keys, generation)


def save(
    paths: StatePaths, tally: Tally, state: LocalState, keys: KeyStore, *, config: Config, old: Ledger | None
) -> Ledger | None:
    """Commit the tally, its key index and the checkpoints; returns the new ledger if its
    counts changed, else None (and the ledger file is left as it is)."""
    old_generation = old.generation if old else 0
    # The ledger's own install id wins over the config's: an adoption cut short after its
    # commit point (see `adopt`) must not hand the adopted record back to the old identity.
    install_id = old.install_id if old is not None else config.install_id
    ledger = tally.ledger(device=config.device, install_id=install_id, generation=old_generation,
                         owner=config.owner)
    if (old is None and not ledger.sessions) or (old is not None and _same_counts(old, ledger)):
        keys.stage(tally.index, tally.covered_before, old_generation)
        _write_state(paths, state, old_generation)
        _remove_other_states(paths, old_generation)  # an index of version 0.1, now moved
        return None
    generation = old_generation + 1
    ledger = ledger._replace(generation=generation)
    keys.stage(tally.index, tally.covered_before, generation)
    _write_state(paths, state, generation)
    if old is not None:
        _backup(paths)
    _write_ledger(paths, ledger)  # the commit point
    keys.settle(generation)
    _remove_other_states(paths, generation)
    return ledger


def _write_state(paths: StatePaths, state: LocalState, generation: int) -> None:
    from syncer.checkpoints import state_document

    data = orjson.dumps(state_document(state, generation=generation))
    _checked_state(data)  # a state its schema refuses is a bug, never written
    write_atomic(paths.state(generation), data)
    trust.remember(paths.trusted, "state", data)


def _same_counts(old: Ledger, new: Ledger) -> bool:
    return old._replace(generation=0) == new._replace(generation=0)


def _remove_other_states(paths: StatePaths, keep: int) -> None:
    """Drop local state of other generations (and the key index too, for keep = -1: the
    ledger was replaced by one it does not belong to)."""
    if keep < 0:
        from syncer import keystore

        keystore.remove(paths.keys)
    for pattern in ("state-*.json", "index-*.json"):
        for stale in paths.home.glob(pattern):
            if stale.name != paths.state(keep).name:
                stale.unlink(missing_ok=True)


def set_owner(paths: StatePaths, owner: str | None) -> None:
    """Name the ledger's owner now, not at the next scan that finds something new. Only the
    owner changes: the generation (and so the local state paired with it) stays."""
    ledger = read_ledger(paths)
    if ledger is not None and ledger.owner != owner:
        record(paths, ledger._replace(owner=owner))


def write_ledger(paths: StatePaths, ledger: Ledger) -> None:
    """Install `ledger` as this device's ledger with no local state (restore): the next scan
    re-derives the state without counting anything twice."""
    _remove_other_states(paths, -1)  # first: a state must never outlive the ledger it was for
    if paths.ledger.exists():
        _backup(paths)
    _write_ledger(paths, ledger)


def adopt(paths: StatePaths, config: Config, record: Ledger, *, own: Ledger | None) -> Config:
    """Make `record` (this device's file in the sync repo, perhaps another machine's) this
    device's ledger, and its install id this machine's. Idempotent steps in a safe order, so a
    kill or a full disk at any point leaves a state the next run (or `restore` again) finishes:
    1. the install id this machine recorded under is remembered (its file is retired later);
    2. the local scan state goes, so no state of our own generations can pass for the record's;
    3. the record replaces the ledger: the commit point (from here the ledger's install id wins);
    4. the config takes the record's install id."""
    former = [*config.former_install_ids]
    if own is not None and own.install_id != record.install_id and own.install_id not in former:
        former.append(own.install_id)
        config = config._replace(former_install_ids=tuple(former))
        save_config(paths, config)
    _remove_other_states(paths, -1)
    write_ledger(paths, record._replace(device=config.device))
    config = config._replace(install_id=record.install_id)
    save_config(paths, config)
    return config


def rename_ledger(paths: StatePaths, device: str) -> None:
    """Record the ledger under a new device id (`ccsync init --device NEW --force`). Its counts
    and generation stay, so the local state still matches it."""
    ledger = read_ledger(paths)
    if ledger is None or ledger.device == device:
        return
    record(paths, ledger._replace(device=device))


def record(paths: StatePaths, ledger: Ledger) -> None:
    """Write `ledger`, whose counts from logs are those on disk (a new device id, entries added
    or removed): its generation stays, so the local state still matches it."""
    if paths.ledger.exists():
        _backup(paths)
    _write_ledger(paths, ledger)


def apply_privacy(paths: StatePaths, config: Config) -> bool:
    """Rewrite the project and branch names already recorded as `config.privacy` records them
    (`ccsync init --privacy`). Counts and generation stay, so the local state still matches."""
    from syncer import privacy
    ledger = read_ledger(paths)
    if ledger is None:
        return False
    if config.privacy == "hashed":
        recorded = {row.project for row in ledger.hours} | {s.project for s in ledger.sessions}
        remember_names(paths, privacy.hidden_names(recorded, key=config.hash_key))
    rewritten = privacy.apply_privacy(ledger, privacy=config.privacy, key=config.hash_key)
    if rewritten == ledger:
        return False
    _backup(paths)
    _write_ledger(paths, rewritten)
    return True


def read_names(paths: StatePaths) -> dict[str, str]:
    """This device's hashed project names -> the folder names they hide ({} when none are known)."""
    try:
        names = orjson.loads(paths.project_names.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}  # a hint for display only: without it, reports show the hashes
    if not isinstance(names, dict):
        return {}
    return {k: v for k, v in names.items() if isinstance(v, str)}


def remember_names(paths: StatePaths, names: dict[str, str]) -> None:
    """Add to the hashed names this device can show by name (never shared: only the ledger is)."""
    if not names:
        return
    known = read_names(paths)
    if names.items() <= known.items():
        return
    write_atomic(paths.project_names, orjson.dumps({**known, **names}, option=orjson.OPT_SORT_KEYS))


def _backup(paths: StatePaths) -> None:
    try:
        paths.backups.mkdir(mode=0o700, exist_ok=True)
        current = paths.ledger.read_bytes()
        ledger = orjson.loads(current)
        generation = ledger.get("generation", 0) if isinstance(ledger, dict) else 0
        write_atomic(paths.backups / f"ledger.{int(generation):08d}.json", current)
    except OSError as exc:
        raise DiskError(f"cannot back up {paths.ledger}: {exc.strerror}; nothing was changed") from None
    except orjson.JSONDecodeError:
        return
    for stale in sorted(paths.backups.glob("ledger.*.json"))[:-BACKUPS_KEPT]:
        stale.unlink(missing_ok=True)


def read_pending_goal(paths: StatePaths) -> bytes | None:
    """The goal set on this device that the sync repo does not have yet (goal.json bytes)."""
    try:
        return paths.pending_goal.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise DiskError(f"cannot read {paths.pending_goal}: {exc.strerror}") from None


def clear_pending_goal(paths: StatePaths) -> None:
    """Forget the waiting goal (pushed or superseded), under the writer lock. A crash before
    this leaves the file; the next sync finds the repo holds it already and clears it then."""
    try:
        paths.pending_goal.unlink(missing_ok=True)
    except OSError as exc:
        raise DiskError(f"cannot remove {paths.pending_goal}: {exc.strerror}") from None


def latest_backup(paths: StatePaths) -> Path | None:
    """The newest backup that still validates."""
    from syncer.schemas.ledger import parse_ledger

    for candidate in sorted(paths.backups.glob("ledger.*.json"), reverse=True):
        try:
            parse_ledger(candidate.read_bytes(), what=str(candidate))
        except (LedgerCorrupt, SchemaTooNew, OSError):
            continue
        return candidate
    return None


def restore_backup(paths: StatePaths) -> Ledger:
    from syncer.schemas.ledger import parse_ledger

    backup = latest_backup(paths)
    if backup is None and not any(paths.backups.glob("ledger.*.json")):
        raise UsageError(f"there are no backups in {paths.backups} yet (one is kept each time the ledger "
                         "changes); rebuild from the sync repo with: ccsync restore")
    if backup is None:
        raise LedgerCorrupt(f"no valid backup in {paths.backups}; rebuild from the sync repo with: ccsync restore")
    ledger = parse_ledger(backup.read_bytes(), what=str(backup))
    if paths.ledger.exists():
        import shutil  # restore's alone: it pulls bz2 and lzma into every command otherwise

        try:
            shutil.copyfile(paths.ledger, paths.backups / "ledger.corrupt.json")
        except OSError:
            pass
    _remove_other_states(paths, -1)
    write_atomic(paths.ledger, dump_ledger(ledger))
    return ledger


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so a crash leaves the old bytes or the new, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        reason = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise DiskError(f"cannot write {path}: {reason}; the previous file is intact") from None
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":
        return  # Windows cannot open a folder for fsync; os.replace is durable there
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        raise DiskError(f"cannot flush {folder}: {exc.strerror}") from None
    finally:
        os.close(fd)
