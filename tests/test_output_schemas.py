"""Every `--json` document has one shape, published as a JSON Schema in data/output/ and checked
here against each command's real output (a team of three devices with a goal, usage months
old, an unpriced model, an active 5-hour block)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from syncer.output import schemas
from tests import logs
from tests.cli_runner import Cli
from tests.team import make_team

PUBLISHED = Path(__file__).resolve().parent.parent / "data" / "output"


@pytest.mark.parametrize("command", sorted(schemas.SCHEMAS))
def test_published_schema_is_current(command: str) -> None:
    path = PUBLISHED / f"{command}.schema.json"
    if os.environ.get("CCSYNC_UPDATE_SCHEMA"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(schemas.schema_bytes(command))
    assert path.read_bytes() == schemas.schema_bytes(command), (
        f"data/output/{command}.schema.json is stale: CCSYNC_UPDATE_SCHEMA=1 pytest tests/test_output_schemas.py")
    jsonschema.Draft202012Validator.check_schema(orjson.loads(path.read_bytes()))


def validate(command: str, out: str) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(out)
    schema = orjson.loads((PUBLISHED / f"{command}.schema.json").read_bytes())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)
    return doc


RUNS = [
    *(("report", ("report", kind, "--json", "--all-devices"))
      for kind in ("daily", "weekly", "monthly", "session", "model", "project", "branch")),
    ("report", ("report", "daily", "--format", "json", "--since", "20261101")),
    *(("total", ("total", "--json", "--by", by)) for by in ("device", "owner", "model", "month")),
    ("goal", ("goal", "--json")),
    ("status", ("status", "--json")),
    ("status", ("status", "--format", "json")),
    ("blocks", ("report", "blocks", "--json", "--all-devices", "--token-limit", "max")),
    ("blocks", ("report", "blocks", "--json", "--active")),
    ("scan", ("scan", "--json")),
    ("devices", ("devices", "--json")),
    ("entries", ("entries", "--json")),
]


def test_every_commands_json_matches_its_schema(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_team(tmp_path, cli, monkeypatch)
    for note in ("web chat", "typo"):
        assert cli("add", "1200", "300", "--model", "claude-sonnet-4-5", "--date", "2026-11-02", "--note", note)[0] == 0
    typo = orjson.loads(cli("entries", "--json")[1])["entries"][-1]["id"]
    assert cli("entries", "remove", typo)[0] == 0
    now = datetime.now(UTC)
    claude = Path(os.environ["CLAUDE_CONFIG_DIR"])
    logs.write(logs.session_file(claude, "live-0000-4000-8000-000000000000"),
               logs.assistant("m-live", "r-live", ts=(now - timedelta(minutes=30)).isoformat().replace("+00:00", "Z")),
               logs.assistant("m-live2", "r-live2", ts=(now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")))
    assert cli()[0] == 0  # the nightly run: status has a last run
    seen: dict[str, list[dict[str, Any]]] = {}
    for command, args in RUNS:
        code, out, err = cli(*args)
        assert code == 0, (args, err)
        seen.setdefault(command, []).append(validate(command, out))
    goal = seen["goal"][0]
    assert goal["target"] == 2_000_000 and goal["pending"] is False
    assert seen["total"][0]["goal"] == {k: v for k, v in goal.items() if k not in ("schema_version", "warnings")}
    assert {len(doc["devices"]) for doc in seen["total"]} == {3}
    assert seen["blocks"][1]["active"]["projected_processed_tokens"] > 0  # the live block is there
    assert any(row.get("first") for doc in seen["report"] for row in doc["rows"])  # session rows were checked
    assert [e["removed_by"] is not None for e in seen["entries"][0]["entries"]] == [False, True]


def test_a_document_off_its_shape_fails_the_check(cli: Cli, claude_dir: Path) -> None:
    """The check is real: an added, missing or mistyped field is refused."""
    logs.write(logs.session_file(claude_dir), logs.assistant("m1", "r1"))
    assert cli("scan")[0] == 0
    out = cli("report", "daily", "--json")[1]
    validate("report", out)
    doc = orjson.loads(out)
    for broken in ({**doc, "extra": 1}, {k: v for k, v in doc.items() if k != "total"},
                   {**doc, "rows": [{**doc["rows"][0], "processed_tokens": -1}]}, {**doc, "schema_version": 2}):
        with pytest.raises(jsonschema.ValidationError):
            validate("report", orjson.dumps(broken).decode())
