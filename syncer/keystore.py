"""The permanent key index on disk: every event key ever counted, in SQLite (DESIGN §2 rule 8).

A scan reads only the keys (and message ids) its new lines mention, and writes back only the
entries it changed, so an append costs the new keys, not the history.

It commits together with the ledger (DESIGN §3: old or new, never half) through the ledger's
generation. `stage` writes a scan's entries for generation N+1 in one SQLite transaction,
keeping each overwritten entry in `undo` and marking the index `pending = N+1`; the ledger's
atomic replace is the commit point; `settle` then drops the undo records. Whoever opens the
index next compares it with the ledger on disk: a pending generation the ledger reached is
settled, one it did not reach is rolled back. Any other mismatch (a restored ledger, a copied
state folder) means the index does not belong to this ledger: it is set aside and rebuilt.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from syncer.errors import DiskError

FORMAT = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, mid TEXT NOT NULL, entry BLOB NOT NULL, gen INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS keys_by_mid ON keys (mid);
CREATE TABLE IF NOT EXISTS undo (key TEXT PRIMARY KEY, mid TEXT NOT NULL, entry BLOB NOT NULL, gen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 0), format INTEGER NOT NULL, generation INTEGER NOT NULL,
    pending INTEGER, covered_before INTEGER, pending_covered_before INTEGER
);
"""
_CHUNK = 500  # SQLite's limit on bound parameters is 999 in older builds
_MID = 7  # the message id's place in an entry (see tally)


class KeyStore:
    """An open key index that matches the ledger of `generation`."""

    def __init__(self, db: sqlite3.Connection, path: Path, generation: int, covered_before: int | None) -> None:
        self._db = db
        self.path = path
        self.generation = generation
        self.covered_before = covered_before
        self.stored: dict[str, bytes] = {}  # entries as read, to write back only what changed

    def fetch(self, keys: Sequence[str], mids: Sequence[str]) -> dict[str, list[Any]]:
        """The stored entries of `keys`, and of every key sharing one of `mids`."""
        rows: list[tuple[str, bytes]] = []
        try:
            for column, values in (("key", keys), ("mid", mids)):
                for start in range(0, len(values), _CHUNK):
                    chunk = values[start : start + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    query = f"SELECT key, entry FROM keys WHERE {column} IN ({marks})"
                    rows += self._db.execute(query, chunk).fetchall()
        except sqlite3.Error as exc:
            raise DiskError(f"cannot read the key index {self.path}: {exc}") from None
        found = {}
        for key, data in rows:
            if key not in found:
                self.stored[key] = data
                found[key] = orjson.loads(data)
        return found

    def stage(self, entries: dict[str, list[Any]], covered_before: int | None, generation: int) -> None:
        """Write the changed `entries` for ledger `generation` (see the module docstring).
        With `generation` equal to the current one (the ledger's counts did not change), the
        entries are written for good at once."""
        changed = []
        for key, entry in entries.items():
            data = orjson.dumps(entry)
            if self.stored.get(key) != data:
                changed.append((key, entry[_MID], data, generation))
        pending = generation if generation != self.generation else None
        try:
            with self._db:
                if pending is not None:
                    self._db.executemany(
                        "INSERT OR IGNORE INTO undo SELECT * FROM keys WHERE key = ?",
                        [(c[0],) for c in changed if c[0] in self.stored],
                    )
                self._db.executemany("INSERT OR REPLACE INTO keys VALUES (?, ?, ?, ?)", changed)
                if pending is None:
                    self._db.execute("UPDATE meta SET covered_before = ?", (covered_before,))
                else:
                    self._db.execute(
                        "UPDATE meta SET pending = ?, pending_covered_before = ?", (pending, covered_before)
                    )
        except sqlite3.Error as exc:
            raise _disk_error(self.path, exc) from None
        self.stored.update((c[0], c[2]) for c in changed)
        self.covered_before = covered_before

    def settle(self, generation: int) -> None:
        """The ledger of `generation` is on disk: the staged entries are final. (Left undone
        by a crash, the next open does it.)"""
        try:
            with self._db:
                _settle(self._db, generation)
        except sqlite3.Error as exc:
            raise _disk_error(self.path, exc) from None
        self.generation = generation

    def close(self) -> None:
        self._db.close()


def _settle(db: sqlite3.Connection, generation: int) -> None:
    db.execute("DELETE FROM undo")
    db.execute(
        "UPDATE meta SET generation = ?, pending = NULL, covered_before = pending_covered_before", (generation,)
    )


def _roll_back(db: sqlite3.Connection, pending: int) -> None:
    """Undo a staged generation the ledger never reached: restore what it overwrote (which
    carries its older generation), then drop what it added."""
    db.execute("INSERT OR REPLACE INTO keys SELECT * FROM undo")
    db.execute("DELETE FROM keys WHERE gen = ?", (pending,))
    db.execute("DELETE FROM undo")
    db.execute("UPDATE meta SET pending = NULL, pending_covered_before = NULL")


def open_index(path: Path, generation: int) -> KeyStore | None:
    """The index that matches ledger `generation`, finishing or undoing an interrupted save;
    None when there is none (or it belongs to another ledger: it is then removed)."""
    if not path.exists():
        return None
    try:
        db = _connect(path)
    except sqlite3.Error:
        remove(path)
        return None
    try:
        with db:
            db.execute("SELECT key, mid, entry, gen FROM keys LIMIT 1").fetchall()  # the shape we write
            db.execute("SELECT key, mid, entry, gen FROM undo LIMIT 1").fetchall()
            meta = db.execute(
                "SELECT format, generation, pending, covered_before, pending_covered_before FROM meta"
            ).fetchone()
            if meta is None or meta[0] != FORMAT:
                raise LookupError
            found, pending, covered = meta[1], meta[2], meta[3]
            if pending is not None and pending == generation:
                _settle(db, generation)  # the ledger was written; the clean-up was not
                covered = db.execute("SELECT covered_before FROM meta").fetchone()[0]
            elif pending is not None and found == generation:
                _roll_back(db, pending)  # the ledger was never written
            elif found != generation:
                raise LookupError
    except sqlite3.OperationalError as exc:
        db.close()
        if "full" in str(exc) or "disk I/O" in str(exc):
            raise _disk_error(path, exc) from None
        remove(path)
        return None
    except (sqlite3.Error, LookupError):
        db.close()
        remove(path)
        return None
    return KeyStore(db, path, generation, covered)


def create_index(path: Path, generation: int) -> KeyStore:
    """A new, empty index for the ledger of `generation` (replacing any other)."""
    remove(path)
    try:
        db = _connect(path)
        with db:
            db.executescript(_SCHEMA)
            db.execute("INSERT INTO meta VALUES (0, ?, ?, NULL, NULL, NULL)", (FORMAT, generation))
    except sqlite3.Error as exc:
        remove(path)
        raise _disk_error(path, exc) from None
    return KeyStore(db, path, generation, None)


def _connect(path: Path) -> sqlite3.Connection:
    if not path.exists():  # private to the user, like every file in the state folder (SQLite
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # gives its journal the same mode)
    db = sqlite3.connect(path)
    # A commit is on disk when it returns (the ledger's commit point comes after it); with a
    # write-ahead log that is one fsync per commit, where a rollback journal takes three.
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    return db


def remove(path: Path) -> None:
    for stale in _files(path):
        stale.unlink(missing_ok=True)


def _files(path: Path) -> Iterable[Path]:
    return (path, *(path.with_name(path.name + suffix) for suffix in ("-journal", "-wal", "-shm")))


def _disk_error(path: Path, exc: sqlite3.Error) -> DiskError:
    message = str(exc)
    reason = "the disk is full" if "full" in message else "Input/output error" if "I/O" in message else message
    return DiskError(f"cannot write the key index {path}: {reason}; the ledger is unchanged")
