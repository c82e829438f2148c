"""Prices: the packaged price table, matching log model names to it, and the cost of usage.

Money is never stored (DESIGN.md §6): reports price token counts with this table at report time,
so a corrected price re-prices all history. The table (`prices.json`, shipped in the package) is
made from LiteLLM's published model prices by `table_from_litellm`; `bench/extract_prices.py`
runs it. Everything here is pure except `load_table`, which reads the packaged file.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from syncer import trust
from syncer.documents import canonical
from syncer.usage import Usage

LONG_CONTEXT_THRESHOLD = 200_000
"""Prompt tokens (input + cache writes + cache reads) above which a request is long-context,
for a model whose table entry names no threshold of its own."""

SOURCE = "LiteLLM model_prices_and_context_window.json"

# Anthropic's published cache multipliers of the base input price. Used only where LiteLLM has
# no price (or, for the one-hour write, a price contradicting the rule; see `_one_hour`).
WRITE_5M_FACTOR = 1.25
WRITE_1H_FACTOR = 2.0
READ_FACTOR = 0.1

# The types below are plain: their rules (prices >= 0, a tier's threshold > 0, no unknown
# field) are the schema's, `syncer/schemas/prices.py`, which checks every table read or written.
# Both kinds of rates start with the same five fields, USD per token of one request.


class LongContextRates(NamedTuple):
    """Rates for every token of a request whose prompt exceeds `threshold` tokens."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    threshold: int


class ModelPrice(NamedTuple):
    """One model's rates, its long-context tier if it has one, and where the numbers came from."""

    input: float
    output: float
    cache_write_5m: float
    cache_write_1h: float
    cache_read: float
    litellm_version: str
    long_context: LongContextRates | None = None
    fast: float | None = None
    """Fast mode (`usage.speed: "fast"`): every rate, long-context tier included, times this."""
    derived: tuple[str, ...] = ()
    """Prices not copied from LiteLLM, each with the rule that made it."""


Rates = LongContextRates | ModelPrice
"""USD per token for each kind of token of one request: a model's base rates or its tier's."""


class PriceTable(NamedTuple):
    """The packaged table: model name (as the provider's API reports it) -> price."""

    source: str
    litellm_version: str
    extracted: date
    models: dict[str, ModelPrice]
    backfill_litellm_version: str | None = None
    notes: tuple[str, ...] = ()

    def __hash__(self) -> int:
        # Reports memoise lookups per (table, model). Equal tables share these fields, so the
        # hash agrees with the field-wise equality while staying cheap (no walk of models).
        return hash((self.source, self.litellm_version, self.extracted, len(self.models)))


@functools.cache
def load_table(trusted: Path | None = None) -> PriceTable:
    """The price table shipped in the package, validated once per process, or once per
    install given the state folder's memo of accepted documents (`trusted`: syncer/trust.py)."""
    data = packaged_prices()
    if trusted is None:
        return parse_table(data)
    return trust.parse(trusted, "prices", data, validate=parse_table, build=table_from_document)


def packaged_prices() -> bytes:
    """The bytes of the price table shipped in the package."""
    try:
        # Next to this module in any installed or editable tree; importlib.resources (with
        # zipfile, tempfile and random) would cost a read command 10 ms.
        return Path(__file__).with_name("prices.json").read_bytes()
    except OSError:  # a zipped package: only importlib.resources can open it
        import importlib.resources  # noqa: PLC0415

        return importlib.resources.files("syncer").joinpath("prices.json").read_bytes()


def parse_table(data: bytes) -> PriceTable:
    """The price table in `data` (prices.json's bytes), validated by its schema (a table that
    fails it is a bug in the package or in the tool that wrote it: pydantic's ValidationError)."""
    # Here, not at the top: pricing a report must not import pydantic when the bytes are trusted.
    from syncer.schemas.prices import PriceTable as Schema  # noqa: PLC0415

    Schema.model_validate_json(data)
    return table_from_document(orjson.loads(data))


def table_from_document(doc: Mapping[str, Any]) -> PriceTable:
    """The table in a prices.json document its schema accepted (pure: no validation here).
    JSON integers become the floats pydantic made of them."""
    return PriceTable(
        source=doc["source"], litellm_version=doc["litellm_version"],
        backfill_litellm_version=doc.get("backfill_litellm_version"), extracted=date.fromisoformat(doc["extracted"]),
        notes=tuple(doc.get("notes", ())), models={name: _price_from(m) for name, m in doc["models"].items()},
    )


def _price_from(m: Mapping[str, Any]) -> ModelPrice:
    tier, fast = m.get("long_context"), m.get("fast")
    return ModelPrice(
        input=float(m["input"]), output=float(m["output"]), cache_write_5m=float(m["cache_write_5m"]),
        cache_write_1h=float(m["cache_write_1h"]), cache_read=float(m["cache_read"]),
        long_context=None if tier is None else LongContextRates(
            input=float(tier["input"]), output=float(tier["output"]), cache_write_5m=float(tier["cache_write_5m"]),
            cache_write_1h=float(tier["cache_write_1h"]), cache_read=float(tier["cache_read"]),
            threshold=tier["threshold"],
        ),
        fast=None if fast is None else float(fast), litellm_version=m["litellm_version"],
        derived=tuple(m.get("derived", ())),
    )


# --- matching log model names -------------------------------------------------------------------

# "claude-sonnet-4-5[1m]": Claude Code's marker for the 1M-context beta; the tier is decided by
# the request's size (`is_long_context`), not by the name.
_BRACKET_SUFFIX = re.compile(r"\[[^\]]*\]$")
# Bedrock ids and inference profiles: "anthropic.", "us.anthropic.", "us-gov.anthropic.", ...
_BEDROCK_PREFIX = re.compile(r"^(?:[a-z]+(?:-[a-z]+)?\.)?anthropic\.")
# Bedrock model versions: "-v1:0", "-v2:0", "-v1".
_BEDROCK_VERSION = re.compile(r"-v\d+(?::\d+)?$")
_SNAPSHOT_DATE = re.compile(r"-\d{8}$")
_DATE_LEN = len("-20250514")


def canonical_name(model: str) -> str | None:
    """Anthropic's own id for a log model name from any provider, or None if it is not Claude.

    `us.anthropic.claude-sonnet-4-5-20250929-v1:0`, `vertex_ai/claude-sonnet-4-5@20250929` and
    `anthropic/claude-sonnet-4-5-20250929` all become `claude-sonnet-4-5-20250929`.
    """
    name = _BRACKET_SUFFIX.sub("", model.strip().lower())
    # Provider paths ("anthropic/", "bedrock/us-east-1/", "vertex_ai/", an inference-profile
    # ARN ".../us.anthropic.claude-..."): the model id is the last path component.
    name = name.rsplit("/", 1)[-1]
    name = _BEDROCK_PREFIX.sub("", name)
    name = _BEDROCK_VERSION.sub("", name)
    base, at, tag = name.partition("@")
    if at:  # Vertex: "@20250929" is the snapshot date, "@default" / "@latest" name no snapshot
        name = f"{base}-{tag}" if len(tag) == 8 and tag.isdigit() else base
    name = name.removesuffix("-latest")
    return name if name.startswith("claude-") else None


def find_price(table: PriceTable, model: str) -> ModelPrice | None:
    """The price of a model name as logs write it, or None when the table does not know it.

    Only ever the same model: an undated name takes its own newest dated snapshot
    (`claude-opus-4` -> `claude-opus-4-20250514`) and an unknown snapshot takes its undated
    name, but never a loose prefix (`claude-opus-4` is not `claude-opus-4-1`, nor the reverse).
    """
    exact = table.models.get(model)
    if exact is not None:
        return exact
    name = canonical_name(model)
    if name is None:
        return None
    found = table.models.get(name)
    if found is not None:
        return found
    if _SNAPSHOT_DATE.search(name):
        # A snapshot the table does not list yet: same model name, presumably same price.
        name = name[:-_DATE_LEN]
        found = table.models.get(name)
        if found is not None:
            return found
    snapshots = sorted(k for k in table.models if _SNAPSHOT_DATE.search(k) and k[:-_DATE_LEN] == name)
    return table.models[snapshots[-1]] if snapshots else None


# --- cost ---------------------------------------------------------------------------------------


def long_context_threshold(table: PriceTable | None = None) -> Callable[[str], int]:
    """Model name -> prompt tokens above which its requests are long-context: the threshold of
    the model's tier in the table, else 200k (recorded so that a tier added later prices it)."""
    found = table or load_table()

    def threshold(model: str) -> int:
        price = find_price(found, model)
        return price.long_context.threshold if price is not None and price.long_context is not None else (
            LONG_CONTEXT_THRESHOLD
        )

    return threshold


def cost_usd(price: ModelPrice, usage: Usage, *, long_context: bool, fast: bool = False) -> float:
    """USD for `usage` (one request, or a sum of requests of the same tier and speed).

    With `long_context` and a model that has a long-context tier, every token of the request is
    billed at the tier's rates, as Anthropic does. A model without a tier is billed at its base
    rates. Cache writes are split: `cache_creation_1h_tokens` at the one-hour rate, the rest of
    `cache_creation_tokens` at the five-minute rate. Fast mode multiplies every rate by the
    model's fast multiplier (a model with none in the table is billed at its standard rates).
    """
    return counts_cost(price, usage.as_tuple(), long_context=long_context, fast=fast)


def counts_cost(price: ModelPrice, counts: Sequence[int], *, long_context: bool, fast: bool = False) -> float:
    """`cost_usd` of counts in `usage.FIELDS` order (a report's summed groups are plain lists)."""
    rates: Rates = price.long_context if long_context and price.long_context is not None else price
    factor = price.fast if fast and price.fast is not None else 1.0
    input_tokens, output_tokens, cache_creation, cache_creation_1h, cache_read = counts[:5]
    # Usage promises 1h <= whole; clamp anyway so bad input cannot make a negative 5m count.
    one_hour = min(cache_creation_1h, cache_creation)
    five_min = cache_creation - one_hour
    return factor * (
        input_tokens * rates.input
        + output_tokens * rates.output
        + five_min * rates.cache_write_5m
        + one_hour * rates.cache_write_1h
        + cache_read * rates.cache_read
    )


# --- building the table from LiteLLM ------------------------------------------------------------

NOTES = (
    "Prices are USD per token, copied from LiteLLM's first-party entries: litellm_provider "
    "'anthropic' for Claude, 'openai' for OpenAI models, 'vertex_ai-language-models' (else "
    "'gemini') for Gemini; Bedrock/Vertex regional uplifts are not applied.",
    "OpenAI and Gemini bill no cache writes except where LiteLLM lists "
    "cache_creation_input_token_cost (GPT-5.6); the derived write prices of the others apply "
    "to no tokens.",
    "cache_write_1h is 2x input, Anthropic's published rule, where LiteLLM has no "
    "cache_creation_input_token_cost_above_1hr or one that contradicts the rule; such models "
    "list it in 'derived'.",
    "Models LiteLLM dropped after they were retired come from the backfill release "
    "(backfill_litellm_version); each model's litellm_version says which release it came from.",
    "long_context applies to every token of a request whose prompt exceeds its threshold. A "
    "model whose current entry is capped at 200k input tokens but whose backfill entry has a "
    "long-context tier keeps that tier: such requests were billed at it while the 1M beta ran.",
    "'-latest' aliases are left out: logs record the dated id, and the alias moved over time.",
)

# Fast mode multipliers Anthropic publishes where LiteLLM lists none ("provider_specific_entry":
# {"fast": N} is where LiteLLM puts it): Opus 4.6 fast mode is $30/$150 per MTok, 6x standard.
PUBLISHED_FAST = {"claude-opus-4-6": 6.0}

_TIER_KEY = re.compile(r"^input_cost_per_token_above_(\d+)k_tokens$")

LitellmRelease = tuple[str, Mapping[str, Any]]
"""(LiteLLM version, the parsed model_prices_and_context_window.json of that version)."""


def table_from_litellm(
    current: LitellmRelease, backfill: LitellmRelease | None = None, *, extracted: date
) -> PriceTable:
    """The price table from a LiteLLM release, plus retired models from an older release.

    Pure and deterministic: the same inputs give an equal table (and `dump_table` equal bytes).
    """
    version, data = current
    models: dict[str, ModelPrice] = {}
    entries = dict(_entries(data))
    for name, entry in entries.items():
        price = _model_price(entry, version, name)
        if price is not None:
            models[name] = price
    if backfill is not None:
        old_version, old_data = backfill
        for name, entry in _entries(old_data):
            old = _model_price(entry, old_version, name)
            if old is None:
                continue
            if name not in models:
                models[name] = old
                continue
            now = models[name]
            # A tier LiteLLM dropped once the model lost its 1M context: requests can no longer
            # exceed 200k, so the tier only prices history, which Anthropic billed at it.
            capped = _max_input(entries[name]) <= LONG_CONTEXT_THRESHOLD
            if capped and now.long_context is None and old.long_context is not None:
                models[name] = now._replace(
                    long_context=old.long_context, derived=tuple(sorted((
                        *now.derived,
                        *(note for note in old.derived if note.startswith("long_context.")),
                        f"long_context: from LiteLLM {old_version}",
                    ))),
                )
    table = PriceTable(
        source=SOURCE,
        litellm_version=version,
        backfill_litellm_version=backfill[0] if backfill is not None else None,
        extracted=extracted,
        notes=NOTES,
        models=dict(sorted(models.items())),
    )
    dump_table(table)  # LiteLLM's numbers held to the schema: a negative price stops here
    return table


def dump_table(table: PriceTable) -> bytes:
    """The table as `prices.json` stores it: sorted keys, indented, newline-terminated; checked
    by its schema, so no table is written that `load_table` would refuse."""
    from syncer.schemas.prices import PriceTable as Schema  # noqa: PLC0415

    # Tuples and dates stay as they are: orjson writes them as pydantic's JSON mode did.
    data = canonical({**table._asdict(), "models": {name: _price_document(p) for name, p in table.models.items()}})
    Schema.model_validate_json(data)
    return data


def _price_document(price: ModelPrice) -> dict[str, Any]:
    """A price as a JSON object (orjson writes no named tuple)."""
    tier = price.long_context
    return {**price._asdict(), "long_context": None if tier is None else tier._asdict()}


_OPENAI_NAME = re.compile(r"^(?:gpt-|o\d|codex-)")
_GEMINI_PREFIX = "gemini/"


def _entries(data: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The first-party text models of the CLIs ccsync reads, by the names their logs use:
    Anthropic's Claude, OpenAI's models (Codex; `responses` is the Codex models' mode) and
    Google's Gemini (Vertex and AI Studio list the same prices; a model only AI Studio lists
    is taken from its `gemini/` entry)."""
    found: dict[str, Mapping[str, Any]] = {}
    for name, entry in data.items():
        if not isinstance(entry, Mapping) or name.endswith("-latest"):
            continue
        provider, mode = entry.get("litellm_provider"), entry.get("mode", "chat")
        if provider == "anthropic" and name.startswith("claude-") and mode == "chat":
            found[name] = entry
        elif provider == "openai" and _OPENAI_NAME.match(name) and mode in ("chat", "responses"):
            found[name] = entry
        elif provider == "vertex_ai-language-models" and name.startswith("gemini-") and mode == "chat":
            found[name] = entry
    for name, entry in data.items():
        bare = name.removeprefix(_GEMINI_PREFIX)
        if (
            name.startswith(_GEMINI_PREFIX) and bare.startswith("gemini-") and bare not in found
            and not bare.endswith("-latest") and isinstance(entry, Mapping)
            and entry.get("litellm_provider") == "gemini" and entry.get("mode", "chat") == "chat"
        ):
            found[bare] = entry
    return sorted(found.items())


def _max_input(entry: Mapping[str, Any]) -> int:
    value = entry.get("max_input_tokens")
    return value if isinstance(value, int) else LONG_CONTEXT_THRESHOLD


def _number(entry: Mapping[str, Any], key: str) -> float | None:
    value = entry.get(key)
    # bool is an int subclass; a JSON true is not a price.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _rates(entry: Mapping[str, Any], suffix: str, derived: list[str], label: str) -> dict[str, float] | None:
    """Rates from the LiteLLM keys ending in `suffix` ("" for base, "_above_200k_tokens" for a tier)."""
    base = _number(entry, "input_cost_per_token" + suffix)
    output = _number(entry, "output_cost_per_token" + suffix)
    if not base or not output:  # absent, or 0 for a free experimental model: no price known
        return None
    rates = {"input": base, "output": output}
    for field, key, factor in (
        ("cache_write_5m", "cache_creation_input_token_cost", WRITE_5M_FACTOR),
        ("cache_read", "cache_read_input_token_cost", READ_FACTOR),
    ):
        value = _number(entry, key + suffix)
        if value is None:
            value = base * factor
            derived.append(f"{label}{field}: {factor}x input (absent in LiteLLM)")
        rates[field] = value
    listed = _number(entry, "cache_creation_input_token_cost_above_1hr" + suffix)
    rates["cache_write_1h"] = _one_hour(base, listed, derived, label)
    return rates


def _one_hour(base: float, listed: float | None, derived: list[str], label: str) -> float:
    rule = base * WRITE_1H_FACTOR
    if listed is None:
        derived.append(f"{label}cache_write_1h: 2x input (absent in LiteLLM)")
        return rule
    if abs(listed - rule) > rule * 1e-9:
        # LiteLLM copied one value (6e-06) into several old models (Claude 3 Haiku, 3 Opus,
        # 3.5 Haiku); Anthropic's price page lists 2x input for every model.
        derived.append(f"{label}cache_write_1h: 2x input (LiteLLM's {listed!r} contradicts the rule)")
        return rule
    return listed


def _model_price(entry: Mapping[str, Any], version: str, name: str) -> ModelPrice | None:
    derived: list[str] = []
    rates = _rates(entry, "", derived, "")
    if rates is None:
        return None
    specific = entry.get("provider_specific_entry")
    fast = _number(specific, "fast") if isinstance(specific, Mapping) else None
    if fast is None or fast <= 0:
        fast = next((f for model, f in PUBLISHED_FAST.items() if name.startswith(model)), None)
        if fast is not None:
            derived.append(f"fast: {fast}x (Anthropic's published fast-mode price; absent in LiteLLM)")
    thresholds = sorted(int(m.group(1)) for key in entry if (m := _TIER_KEY.match(key)))
    tier: LongContextRates | None = None
    if thresholds:
        # One tier per model in practice; with several, the lowest is the one a long request
        # surely crosses.
        k = thresholds[0]
        tier_rates = _rates(entry, f"_above_{k}k_tokens", derived, "long_context.")
        if tier_rates is not None:
            tier = LongContextRates(threshold=k * 1000, **tier_rates)
    return ModelPrice(
        long_context=tier, fast=fast, litellm_version=version, derived=tuple(sorted(derived)), **rates
    )
