"""Other devices' records as the sync repo holds them: which count toward a total, and which are
this installation's own. Pure: raw bytes and ledgers in, ledgers and warnings out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import NamedTuple

from syncer import entries
from syncer.errors import ConfigError, LedgerCorrupt, SchemaTooNew
from syncer.fold import holds_all
from syncer.ledger import Ledger

Parse = Callable[[str, bool], Ledger]
"""A device's file (by its name in `files`) and whether its sessions are wanted, to its ledger
(without its sessions, if they are not wanted, when that is quicker)."""


class Counted(NamedTuple):
    ledgers: list[Ledger]
    warnings: list[str]


def count_once(
    own: Ledger | None, device: str, files: Mapping[str, bytes], *, parse: Parse | None = None, sessions: bool = True
) -> Counted:
    """This device's ledger (`own`, the freshest, from disk) and every other device's file.

    A peer's bad file is skipped with a warning, never fatal. A machine renamed with
    `ccsync init --device` leaves its old file behind until its next sync: the same install
    under two names is counted once, under its newest record. Two live records of one install
    (a copied state folder) both count, with a warning. `parse` turns a device's file into its
    ledger (by default validating its bytes: see `store.load_ledger`). Without `sessions`, the
    peers' ledgers may come without their sessions (for callers that read none: building a
    team's sessions is a tenth of a read command), except where two records of one install
    must be told apart by them.
    """
    def read(name: str, whole: bool) -> Ledger:
        peer = parse(name, whole) if parse is not None else _parse(files[name], f"data/{name}.json")
        return printable_ledger(peer) if _may_hold_controls(files[name]) else peer

    ledgers: list[Ledger] = []
    warnings: list[str] = []
    counted: dict[str, tuple[str, Ledger]] = {}  # install id -> the device and record counted
    if own is not None:
        ledgers.append(own)
        counted[own.install_id] = (device, own)
    peers: list[tuple[str, Ledger]] = []
    for name in sorted(files):
        if name == device:
            continue
        try:
            peer = read(name, sessions)
        except (LedgerCorrupt, SchemaTooNew) as exc:
            warnings.append(f"skipped {exc.message}")
            continue
        if peer.device != name:
            warnings.append(f"skipped data/{name}.json: it names device {peer.device!r}")
            continue
        peers.append((name, peer))
    for name, peer in sorted(peers, key=lambda p: -p[1].generation):
        first = counted.get(peer.install_id)
        if first is not None and not sessions:  # the two records are told apart by their sessions
            peer = read(name, True)
            if first[0] != device:
                first = (first[0], read(first[0], True))
        if first is not None and holds_all(first[1], peer):
            warnings.append(f"skipped data/{name}.json: an older record of device {first[0]!r}")
            continue
        if first is not None:
            warnings.append(
                f"data/{name}.json and device {first[0]!r} share one installation id, as when a state "
                "folder is copied to another machine: usage from before the copy counts twice"
            )
        counted.setdefault(peer.install_id, (name, peer))
        ledgers.append(peer)
    return Counted(entries.counted(ledgers), warnings)


_CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0)])  # C0, DEL and C1, for str.translate to drop
# A pattern, compiled (and kept by `re`) the first time a peer's bytes need it: rarely.
_RAW_CONTROLS = rb"\\u00[0189][0-9a-fA-F]|\x7f|\xc2[\x80-\x9f]"


def printable(text: str) -> str:
    """`text` without control characters: a peer's strings reach terminals, where escape
    sequences could clear the screen or set the window title."""
    return text.translate(_CONTROLS)


def _may_hold_controls(raw: bytes) -> bool:
    """A cheap look at the JSON bytes (a control character is escaped as \\u00XX, or DEL and
    C1 are raw UTF-8) before paying for a walk over every row. The plain searches first: they
    are a hundred times quicker than the pattern over a file that has none of them. A backslash
    before `\\u00`: a one-byte search is ten times quicker than that one, whose last byte, 0,
    is in almost every number."""
    if (b"\\" not in raw or b"\\u00" not in raw) and b"\x7f" not in raw and b"\xc2" not in raw:
        return False
    return re.search(_RAW_CONTROLS, raw) is not None


def printable_ledger(ledger: Ledger) -> Ledger:
    """A peer's ledger with control characters removed from every string that is shown."""
    hours = [row._replace(model=printable(row.model), project=printable(row.project), branch=printable(row.branch))
             for row in ledger.hours]
    sessions = [
        s._replace(id=printable(s.id), project=printable(s.project), branch=printable(s.branch),
                   usage=[u._replace(model=printable(u.model)) for u in s.usage])
        for s in ledger.sessions
    ]
    return ledger._replace(hours=hours, sessions=sessions)


def published_record(raw: bytes | None, *, device: str, ours: Ledger) -> Ledger | None:
    """This device's file as the sync repo has it. Refuses (exit 78) to replace a file that
    another machine wrote, or one holding usage our ledger lacks: pushing over it would lose
    that usage from every total."""
    if raw is None:
        return None
    try:
        theirs = _parse(raw, f"data/{device}.json in the sync repo")
    except (LedgerCorrupt, SchemaTooNew):
        return None  # ours to replace: only this device writes it
    if theirs.install_id != ours.install_id:
        raise ConfigError(
            f"device id {device!r} is already used by another machine in the sync repo; nothing was pushed. "
            "Give this machine its own id with: ccsync init --device NEW-ID --force "
            "(or, if this machine replaces that one, adopt its record with: ccsync restore)"
        )
    if not holds_all(ours, theirs):
        raise ConfigError(
            f"data/{device}.json in the sync repo holds usage this machine's ledger lacks: its state folder "
            "came back from an older backup (or snapshot), or another machine records with a copy of it; "
            "nothing was pushed. If this is the only machine recording as "
            f"{device!r}, take the newer record back with: ccsync restore. If another machine records as "
            f"{device!r} too, move this machine's state folder aside and start it under its own id with: "
            "ccsync init --device NEW-ID --remote URL"
        )
    return theirs


def former_names(
    files: Mapping[str, bytes], ledger: Ledger, *, device: str, install_ids: Collection[str]
) -> dict[str, bytes]:
    """Files this machine published under an earlier device id (`init --device NEW --force`) or
    an earlier install id (before `restore` adopted another machine's record): they go in the
    same commit as the file under the new id. Only a record that this ledger holds in full:
    another live machine with a copy of this state folder keeps its file."""
    marks = [i.encode() for i in install_ids]
    former: dict[str, bytes] = {}
    for name, raw in files.items():
        if name == device or not any(mark in raw for mark in marks):  # a cheap test first
            continue
        try:
            theirs = _parse(raw, f"data/{name}.json")
        except (LedgerCorrupt, SchemaTooNew):
            continue
        if theirs.install_id in install_ids and holds_all(ledger, theirs):
            former[f"data/{name}.json"] = raw
    return former


def _parse(raw: bytes, what: str) -> Ledger:
    from syncer.schemas.ledger import parse_ledger  # noqa: PLC0415  (pydantic only for bytes not yet validated)

    return parse_ledger(raw, what=what)
