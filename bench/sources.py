"""Scan speed per byte for each source: `python -m bench.sources [--size 100M] [--seed 0]`.

Generates a Claude Code corpus (bench/corpus.py), and Codex and Gemini corpora of about the same
size in their real shapes (built with the test suites' builders: re-emitted rows, forks that
replay their parents, a quarter of the rollouts compressed as `.jsonl.zst`; chats whose model
messages are written several times, with checkpoints), then times a cold scan of each source
alone, in-process, and checks each ledger against the builders' truth. DESIGN.md §7 asks the
Codex and Gemini scans to be at least as fast per byte as the Claude one.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import zstandard

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import generate  # noqa: E402
from bench.run import parse_size  # noqa: E402
from syncer import store  # noqa: E402
from syncer.paths import StatePaths  # noqa: E402
from syncer.scan import scan  # noqa: E402
from tests.codex_logs import Rollout, thread_id  # noqa: E402
from tests.codex_logs import expected as codex_expected  # noqa: E402
from tests.gemini_logs import Chat, session_id  # noqa: E402
from tests.gemini_logs import expected as gemini_expected  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=UTC)
MB = 1_000_000


def codex_corpus(home: Path, size: int, rng: random.Random) -> tuple[int, tuple[int, ...]]:
    written, n = 0, 0
    done: list[Rollout] = []
    while written < size:
        n += 1
        start = START + timedelta(minutes=37 * n)
        parent = done[-1] if done and rng.random() < 0.15 else None
        r = Rollout(thread_id(n % 65536) + f"{n // 65536:x}", start=start,
                    forked_from=parent.thread if parent else None)
        if parent is not None:
            r.replay(parent, fork_time=start)
        r.turn(rng.choice(["gpt-5.2-codex", "gpt-5.1-codex-max", "gpt-5.4"]))
        for _ in range(rng.randint(3, 60)):
            r.noise(int(rng.lognormvariate(8.5, 1.2)))
            prompt = rng.randint(8_000, 180_000)
            r.call(prompt, int(prompt * rng.uniform(0.5, 0.95)), rng.randint(50, 3_000), rng.randint(0, 1_500))
            if rng.random() < 0.45:
                r.reemit(rng.randint(1, 3))
        path = r.write(home)
        if rng.random() < 0.25:
            path.with_name(path.name + ".zst").write_bytes(zstandard.ZstdCompressor().compress(path.read_bytes()))
            path.unlink()
        written += len(r.data())
        done.append(r)
    return written, codex_expected(*done)


def gemini_corpus(home: Path, size: int, rng: random.Random) -> tuple[int, tuple[int, ...]]:
    written, n = 0, 0
    done: list[Chat] = []
    while written < size:
        n += 1
        chat = Chat(session_id(n), start=START + timedelta(minutes=41 * n))
        for _ in range(rng.randint(3, 50)):
            chat.user("x" * int(rng.lognormvariate(8.5, 1.2)))
            prompt = rng.randint(8_000, 300_000)
            chat.gemini(prompt, rng.randint(20, 3_000), cached=int(prompt * rng.uniform(0, 0.9)),
                        thoughts=rng.randint(0, 2_000), tool=rng.randint(0, 50),
                        model=rng.choice(["gemini-2.5-pro", "gemini-2.5-flash"]), updates=rng.randint(1, 4))
            if rng.random() < 0.03:
                chat.checkpoint()
        chat.write(home, project=f"project-{n % 7}")
        written += len(chat.jsonl())
        done.append(chat)
    return written, gemini_expected(*done)


def cold_scan(work: Path, name: str, env: dict[str, str], home: Path, run: int) -> tuple[float, tuple[int, ...]]:
    paths = StatePaths(work / f"state-{name}-{run}")
    store.ensure_home(paths)
    began = time.perf_counter()
    scan(paths, store.new_config("bench"), env=env, home=home, now=datetime.now(UTC))
    seconds = time.perf_counter() - began
    ledger = store.read_ledger(paths)
    assert ledger is not None
    rows = [r for r in ledger.hours if r.source == name]
    got = tuple(sum(getattr(r, f) for r in rows) for f in
                ("input_tokens", "output_tokens", "cache_creation_tokens", "cache_read_tokens", "messages"))
    return seconds, got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="100M", help="bytes of logs per source (decimal units)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=3, help="cold scans per source, interleaved; the fastest counts")
    args = parser.parse_args(argv)
    size = parse_size(args.size)
    rng = random.Random(args.seed)
    failed = False
    with tempfile.TemporaryDirectory(prefix="ccsync-bench-sources-") as scratch:
        work = Path(scratch)
        home = work / "home"  # never the real one: every source's folder is inside it
        home.mkdir()
        claude, codex, gemini = work / "claude", work / "codex", work / "gemini"
        generate(claude, target_bytes=size, seed=args.seed, start=START)
        claude_bytes = sum(p.stat().st_size for p in (claude / "projects").rglob("*.jsonl"))
        codex_bytes, codex_truth = codex_corpus(codex, size, rng)
        gemini_bytes, gemini_truth = gemini_corpus(gemini, size, rng)
        on_disk = sum(p.stat().st_size for p in codex.rglob("rollout-*"))
        results: dict[str, float] = {}
        cases = (
            ("claude", {"CLAUDE_CONFIG_DIR": str(claude)}, claude_bytes, None),
            ("codex", {"CODEX_HOME": str(codex)}, codex_bytes, codex_truth),
            ("gemini", {"GEMINI_CLI_HOME": str(gemini)}, gemini_bytes, gemini_truth),
        )
        # Interleaved, fastest of each: on a shared machine the others' load comes and goes.
        timings: dict[str, list[tuple[float, tuple[int, ...]]]] = {name: [] for name, *_ in cases}
        for run in range(args.runs):
            for name, env, _, _ in cases:
                timings[name].append(cold_scan(work, name, env, home, run))
        for name, _env, nbytes, truth in cases:
            seconds, got = min(timings[name])
            results[name] = nbytes / MB / seconds
            exact = "" if truth is None else "  totals exact" if got == truth else f"  TOTALS DIFFER: {got} != {truth}"
            failed = failed or bool(truth is not None and got != truth)
            print(f"{name:7} cold scan: {nbytes / MB:7.1f} MB of log lines in {seconds:6.2f} s = "
                  f"{results[name]:7.1f} MB/s{exact}")
        print(f"codex files on disk {on_disk / MB:.1f} MB (a quarter compressed)")
        for name in ("codex", "gemini"):
            ratio = results[name] / results["claude"]
            verdict = "ok" if ratio >= 1 else "SLOWER than Claude per byte"
            print(f"{name} per byte vs claude: {ratio:.2f}x  (target >= 1.00x: {verdict})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
