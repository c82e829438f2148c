"""`ccsync dashboard`: one self-contained page, opened in a real headless Chromium (Debian's
`chromium`) over the DevTools protocol: every chart painted, no console message, no request
other than the file itself, in light mode, dark mode and on a phone-sized screen."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from syncer import dashboard
from tests import cdp, logs
from tests.cli_runner import Cli
from tests.team import make_team

ARTIFACTS = Path(os.environ.get("CCSYNC_TEST_ARTIFACTS", Path(__file__).resolve().parent.parent / ".test-artifacts"))
needs_chromium = pytest.mark.skipif(
    cdp.chromium() is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)


@pytest.fixture
def page_file(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_team(tmp_path, cli, monkeypatch)
    out = tmp_path / "dashboard.html"
    code, stdout, err = cli("dashboard", "--out", str(out), "--all-devices", "--timezone", "UTC")
    assert (code, stdout) == (0, "") and "no price known" in err
    return out


def figures(html: str) -> dict[str, Any]:
    found = re.search(r'<script id="data" type="application/json">(.*?)</script>', html, re.S)
    assert found
    data: dict[str, Any] = orjson.loads(found.group(1))
    return data


def test_the_page_is_self_contained_and_agrees_with_the_reports(page_file: Path, cli: Cli) -> None:
    html = page_file.read_text()
    assert len(html.encode()) < 400_000
    # Nothing to fetch: no src/href pointing anywhere, a policy that forbids every request.
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=""", html)
    assert "default-src 'none'" in html
    data = figures(html)
    total = orjson.loads(cli("total", "--json", "--offline")[1])
    assert data["totals"]["total_tokens"] == total["total"]["total_tokens"]
    assert data["totals"]["unpriced_models"] == ["claude-future-9-20270101"]
    for name in ("device", "source", "model", "owner"):
        summed = sum(sum(s["values"]) for s in data["stacks"][name])
        assert (
            summed
            == total["total"]["input_tokens"]
            + total["total"]["output_tokens"]
            + total["total"]["cache_creation_tokens"]
        )
    assert sorted(s["label"] for s in data["stacks"]["owner"]) == ["(no owner)", "Ana"]
    # June to December: weekly bars, from the Monday before the first day.
    assert data["period"] == "week" and data["labels"][0] == "2026-06-01" and len(data["labels"]) == len(data["cost"])
    # Each period's cost is rounded to the cent.
    assert abs(sum(data["cost"]) - total["total"]["cost_usd"]) <= 0.005 * len(data["cost"])
    goal = data["goal"]
    assert goal["target"] == 2_000_000 and goal["days"][-1] >= "2026-12-31"
    assert goal["actual"][goal["days"].index(goal["today"])] == goal["current"]
    assert goal["required"][goal["days"].index("2026-12-31")] == 2_000_000
    assert [r["name"] for r in data["top"]["project"]][:3] and data["top"]["session"][0]["project"]
    devices = {d["device"] for d in total["devices"]}
    assert data["devices"] == len(devices) > 1 and {r["device"] for r in data["top"]["session"]} <= devices


def test_the_blocks_are_those_report_blocks_draws(
    page_file: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli("report", "blocks", "--json", "--all-devices", "--timezone", "UTC")
    assert code == 0
    drawn = [r for r in orjson.loads(out)["rows"] if not r["is_gap"]]

    def same(shown: dict[str, Any], latest: int) -> None:
        assert shown["count"] == len(drawn) == 5 and shown["largest"] == max(r["processed_tokens"] for r in drawn)
        assert [(r["start"], r["processed_tokens"], r["models"], r["cost_usd"], r["unpriced_models"])
                for r in shown["rows"]] == [
            (r["start"], r["processed_tokens"], [m["model"] for m in r["models"]], round(r["cost_usd"], 2),
             r["unpriced_models"])
            for r in drawn[-latest:]
        ]

    shown = figures(page_file.read_text())["blocks"]
    same(shown, 5)
    # Labels are start times in the page's zone; some blocks' cost leaves an unpriced model out.
    assert shown["rows"][0]["label"] == shown["rows"][0]["start"][:16].replace("T", " ")
    assert len({bool(r["unpriced_models"]) for r in shown["rows"]}) == 2
    monkeypatch.setattr(dashboard, "BLOCKS", 3)  # only the latest are drawn
    assert cli("dashboard", "--out", str(page_file), "--all-devices", "--timezone", "UTC")[0] == 0
    same(figures(page_file.read_text())["blocks"], 3)


def test_a_name_cannot_close_the_data_element() -> None:
    html = dashboard.render(
        {"name": "</script><script>alert(1)</script>"}, template="<script>/*DATA*/</script>", library=""
    )
    assert html.count("</script>") == 1 and orjson.loads(html[8:-9]) == {"name": "</script><script>alert(1)</script>"}


@needs_chromium
@pytest.mark.parametrize("mode", ["light", "dark", "phone"])
def test_the_page_renders_in_chromium_without_errors_or_requests(page_file: Path, tmp_path: Path, mode: str) -> None:
    with cdp.browser(tmp_path / "profile") as page:
        if mode == "dark":
            page.call("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
        if mode == "phone":
            page.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
            )
        else:
            page.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            )
        page.call("Page.navigate", {"url": page_file.as_uri()})
        page.wait_for("Page.loadEventFired")
        assert page.evaluate("document.body.dataset.ready") == "1"
        drawn = page.evaluate(
            "[...document.querySelectorAll('canvas')].filter(c => c.dataset.drawn === '1' && "
            "c.width > 100 && c.height > 100).map(c => c.id)"
        )
        assert sorted(drawn) == [
            "chart-blocks",
            "chart-cost",
            "chart-device",
            "chart-goal",
            "chart-model",
            "chart-owner",
            "chart-source",
        ]
        # Painted, not just created: the pixels of each canvas are not all transparent.
        painted = page.evaluate(
            "[...document.querySelectorAll('canvas')].map(c => { const d = c.getContext('2d')"
            ".getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 3; i < d.length; "
            "i += 4) if (d[i]) n++; return n; })"
        )
        assert all(n > 1000 for n in painted), painted
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
        about = page.evaluate("document.getElementById('about').textContent")
        assert re.search(r" · \d+ devices · days in ", about), about
        shown = ("[...document.querySelectorAll('#top-session th')].filter(th => th.offsetWidth)"
                 ".map(th => th.textContent)")
        assert page.evaluate(shown) == ["Session", "Project", *([] if mode == "phone" else ["Device"]), "Last",
                                        "Processed", "Cost"]  # a phone has no room for whose device it was
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == ("rgb(17, 18, 20)" if mode == "dark" else "rgb(250, 250, 250)")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(ARTIFACTS / f"dashboard-{mode}.png")
        events = page.events
    requests = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    assert requests == [page_file.as_uri()]
    messages = [
        e["params"]
        for e in events
        if e["method"] in ("Runtime.consoleAPICalled", "Runtime.exceptionThrown", "Log.entryAdded")
    ]
    assert messages == []
    assert (ARTIFACTS / f"dashboard-{mode}.png").stat().st_size > 20_000


@needs_chromium
def test_the_browser_check_sees_errors_and_requests(tmp_path: Path) -> None:
    """The check above can fail: a page with a console error and a blocked fetch is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "script-src 'unsafe-inline'\"><script>console.error('boom'); fetch('http://127.0.0.1:9/x')"
        ".catch(() => {});</script><p>bad</p>"
    )
    with cdp.browser(tmp_path / "profile") as page:
        page.call("Page.navigate", {"url": bad.as_uri()})
        page.wait_for("Page.loadEventFired")
        page.evaluate("new Promise(r => setTimeout(r, 200))")
        events = page.events
    kinds = {e["method"] for e in events}
    assert "Runtime.consoleAPICalled" in kinds
    assert any(
        "Content Security Policy" in str(e["params"])
        for e in events
        if e["method"] == "Log.entryAdded" or e["method"] == "Runtime.consoleAPICalled"
    )


def test_a_short_history_has_a_bar_per_day_up_to_today(cli: Cli, claude_dir: Path, tmp_path: Path) -> None:
    logs.write(
        logs.session_file(claude_dir),
        logs.assistant("m1", "r1", ts="2026-11-20T09:14:05Z"),
        logs.assistant("m2", "r2", ts="2026-11-21T23:59:59.999Z"),
    )
    cli("scan")
    out = tmp_path / "page.html"
    assert cli("dashboard", "--out", str(out), "--timezone", "UTC") == (0, "", "")
    data = figures(out.read_text())
    assert data["period"] == "day" and data["labels"][:2] == ["2026-11-20", "2026-11-21"]
    assert data["labels"][-1] >= "2026-12-01" and data["goal"] is None  # a goal is the team's: --all-devices
    assert [sum(s["values"]) for s in data["stacks"]["model"]] == [2 * (3 + 10 + 100)]
    # 09:14 and the next day's 23:59: two blocks, neither active by now.
    assert [(r["label"], r["processed_tokens"], r["active"]) for r in data["blocks"]["rows"]] == [
        ("2026-11-20 09:00", 113, False), ("2026-11-21 23:00", 113, False)
    ]


def test_a_page_with_no_usage_has_no_blocks(cli: Cli, tmp_path: Path) -> None:
    cli("scan")
    out = tmp_path / "page.html"
    assert cli("dashboard", "--out", str(out), "--timezone", "UTC")[0] == 0
    assert figures(out.read_text())["blocks"] is None
