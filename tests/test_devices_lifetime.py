"""`ccsync devices` and `devices retire`, and total's warning about devices gone quiet: real
devices (one state folder each) on a shared bare remote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from syncer.commands.context import Context
from syncer.commands.devices import list_devices
from syncer.commands.total import gather
from syncer.paths import state_paths
from tests.gitserver import make_bare, requires_git
from tests.test_devices import Device

pytestmark = [requires_git, pytest.mark.slow]  # every device is real ccsync processes


def context(device: Device, *, days_later: int) -> Context:
    env = device.env
    paths = state_paths(env)
    return Context(paths=paths, env=env, home=Path(env["HOME"]),
                   now=datetime.now(UTC) + timedelta(days=days_later))


def test_devices_lists_every_device_and_a_retired_one_leaves_the_warnings(tmp_path: Path) -> None:
    remote = str(make_bare(tmp_path / "remote.git"))
    alpha, beta, gamma = (Device(tmp_path, name, remote) for name in ("alpha", "beta", "gamma"))
    for device in (alpha, beta, gamma):
        device.init()
        device.work(responses=2)
        assert device.run("sync")[0] == 0, device.name
    code, out, err = alpha.run("devices", "--json")
    assert code == 0, err
    listed = orjson.loads(out)["devices"]
    assert [d["device"] for d in listed] == ["alpha", "beta", "gamma"]
    first = listed[0]
    assert first["this_device"] and first["sources"] == ["claude"] and first["retired"] is None
    assert first["processed_tokens"] == 2 * (2 + 30) + 100 + 101 and first["size_bytes"] > 500
    assert first["first_usage"].startswith("2026-11-") and first["last_sync"] is not None
    # Today nobody is quiet; eight days on, alpha hears nothing new from beta or gamma.
    assert not [w for w in gather(context(alpha, days_later=0), offline=True).warnings if "has not synced" in w]
    later = [w for w in gather(context(alpha, days_later=8), offline=True).warnings if "has not synced" in w]
    assert later == [
        f"device {name} has not synced for more than 7 days; if it never will again, "
        f"retire it with: ccsync devices retire {name}"
        for name in ("beta", "gamma")
    ]
    # gamma retires beta; alpha learns it from gamma's file, and beta's usage still counts.
    code, out, err = gamma.run("devices", "retire", "beta")
    assert code == 0, err
    assert alpha.run("sync")[0] == 0
    later = [w for w in gather(context(alpha, days_later=8), offline=True).warnings if "has not synced" in w]
    assert [w.split()[1] for w in later] == ["gamma"]
    rows = list_devices(context(alpha, days_later=0), offline=True).rows
    assert [(r.ledger.device, r.retired.by if r.retired else None) for r in rows] == [
        ("alpha", None), ("beta", "gamma"), ("gamma", None),
    ]
    code, out, _ = alpha.run("total", "--json", "--offline")
    assert [d["device"] for d in orjson.loads(out)["devices"]] == ["alpha", "beta", "gamma"]
    # Retiring twice, an unknown device or this device: one clear line each.
    code, _, err = alpha.run("devices", "retire", "beta")
    assert code == 2 and err.startswith("ccsync: device beta was already retired by gamma on ")
    code, _, err = alpha.run("devices", "retire", "nope")
    assert code == 2 and err.strip() == "ccsync: no device 'nope' in the sync repo; list them with: ccsync devices"
    code, _, err = alpha.run("devices", "retire", "alpha")
    assert code == 2 and err.startswith("ccsync: alpha is this device")
