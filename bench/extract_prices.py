"""Regenerate syncer/prices.json from LiteLLM's model_prices_and_context_window.json.

How the shipped table was made (ccsync never imports litellm):

    pip download --no-deps -d /tmp/litellm litellm==1.109.1
    pip download --no-deps -d /tmp/litellm-old litellm==1.81.16
    python bench/extract_prices.py /tmp/litellm/litellm-1.109.1-*.whl \\
        --backfill /tmp/litellm-old/litellm-1.81.16-*.whl --extracted 2026-11-23

Each source is a wheel (the JSON and the version are read from it) or the JSON itself, in which
case its version is given after a colon: `path/to/model_prices.json:1.109.1`. The backfill
release supplies the Claude models newer LiteLLM releases dropped once Anthropic retired them
(Claude 3.x, Sonnet 4, Opus 4 and 4.1), which old logs still hold. The same arguments always
give the same bytes. The conversion rules live in `syncer.pricing.table_from_litellm`.
"""

from __future__ import annotations

import argparse
import json
import sys
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syncer.pricing import LitellmRelease, dump_table, table_from_litellm  # noqa: E402

JSON_NAMES = ("litellm/model_prices_and_context_window_backup.json", "model_prices_and_context_window.json")


def read_release(spec: str) -> LitellmRelease:
    """(version, parsed JSON) from a wheel path, or from `file.json:VERSION`."""
    if spec.endswith(".whl"):
        with zipfile.ZipFile(spec) as wheel:
            names = wheel.namelist()
            meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
            version = next(
                line.split(":", 1)[1].strip()
                for line in wheel.read(meta).decode().splitlines()
                if line.startswith("Version:")
            )
            member = next(n for n in JSON_NAMES if n in names)
            data: dict[str, Any] = json.loads(wheel.read(member))
        return version, data
    path, sep, version = spec.rpartition(":")
    if not sep or not version:
        raise SystemExit(f"{spec}: give a JSON file's LiteLLM version as PATH:VERSION")
    return version, json.loads(Path(path).read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("current", help="LiteLLM wheel, or model prices JSON as PATH:VERSION")
    parser.add_argument("--backfill", help="an older release for models the current one dropped")
    parser.add_argument("--extracted", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "syncer" / "prices.json")
    args = parser.parse_args(argv)

    current = read_release(args.current)
    backfill = read_release(args.backfill) if args.backfill else None
    table = table_from_litellm(current, backfill, extracted=args.extracted)
    args.output.write_bytes(dump_table(table))

    print(f"{args.output}: {len(table.models)} models from LiteLLM {table.litellm_version}"
          + (f" (backfill {table.backfill_litellm_version})" if backfill else ""))
    for name, price in table.models.items():
        tier = f", long context above {price.long_context.threshold:,}" if price.long_context else ""
        print(f"  {name:32} {price.litellm_version:8} in {price.input * 1e6:g}  out {price.output * 1e6:g} $/M{tier}")
        for note in price.derived:
            print(f"    derived {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
