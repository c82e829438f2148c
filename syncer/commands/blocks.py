"""`ccsync report blocks`: usage in 5-hour blocks, the active one's burn rate, and the two weeks
plan limits count (rolling and calendar). The maths is `syncer.blocks`; this gathers the data:
the ledger's hours for the past, the logs (to the millisecond) for the live window."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo

from syncer import blocks, live, store
from syncer.commands.context import Context, config
from syncer.errors import UsageError
from syncer.goal import parse_target
from syncer.pricing import load_table, long_context_threshold
from syncer.report import Pricer, Totals, Window, hour_activities, price_tiers, unpriced_warnings


@dataclass
class BlockRow:
    block: blocks.Block
    totals: Totals
    models: dict[str, Totals]
    over_limit: bool = False


@dataclass
class Active:
    row: BlockRow
    burn: blocks.Burn
    projected_over: bool  # the projection crosses the token limit


@dataclass
class BlocksResult:
    rows: list[BlockRow]
    total: Totals
    active: Active | None
    token_limit: int | None
    rolling_week: Totals
    calendar_week: Totals
    week: blocks.Windows
    exact_from_ms: int  # activities from here on are known to the millisecond
    warnings: list[str] = field(default_factory=list)


def parse_limit(text: str | None) -> str | int | None:
    if text is None:
        return None
    if text.strip().lower() == "max":
        return "max"
    try:
        return int(parse_target(text))
    except UsageError:
        raise UsageError(f"--token-limit {text!r} is not a number like 500k or 20M, or max") from None


def gather(ctx: Context, *, all_devices: bool, offline: bool = False) -> tuple[list[blocks.Activity], int, list[str]]:
    """This device's activities (ledger hours, then log events from the cut), and with
    `all_devices` every other device's hours from the sync repo (as of the last fetch with
    `offline`)."""
    now_ms = int(ctx.now.timestamp() * 1000)
    warnings: list[str] = []
    if all_devices:
        from syncer.commands.total import gather  # noqa: PLC0415 - only here: git is slow to import

        gathered = gather(ctx, offline=offline, sessions=False)
        warnings = gathered.warnings
        device = config(ctx).device
        own = next((lg for lg in gathered.ledgers if lg.device == device), None)
        peers = [lg for lg in gathered.ledgers if lg is not own]
    else:
        own, peers = store.read_ledger(ctx.paths), []
    cut = live.cut_ms(now_ms, live.last_scan_ms(ctx.paths, own.generation) if own else None)
    activities = hour_activities(own, cut) if own else []
    threshold = long_context_threshold(load_table(ctx.paths.trusted))
    # The status line's read positions: a log read before is read on from where that stopped.
    cache, was = live.load_cache(ctx.paths.live_cache)
    activities.extend(live.to_activity(e, threshold) for e in live.recent_events(ctx.env, ctx.home, cut, cache=cache))
    live.save_cache(ctx.paths.live_cache, cache, was=was)
    for peer in peers:
        activities.extend(hour_activities(peer, None))
    return activities, cut, warnings


def report_blocks(
    ctx: Context, *, zone: tzinfo, window: Window, all_devices: bool, active_only: bool, token_limit: str | None,
    offline: bool = False,
) -> BlocksResult:
    limit_option = parse_limit(token_limit)
    pricer = Pricer(load_table(ctx.paths.trusted))
    now_ms = int(ctx.now.timestamp() * 1000)
    activities, cut, warnings = gather(ctx, all_devices=all_devices, offline=offline)
    found = blocks.identify_blocks(activities, now_ms=now_ms)
    limit = blocks.largest_block(found) if limit_option == "max" else limit_option
    assert limit is None or isinstance(limit, int)
    rows: list[BlockRow] = []
    active: Active | None = None
    total = Totals()
    for block in found:
        start_day = datetime.fromtimestamp(block.start_ms / 1000, UTC).astimezone(zone).date()
        if not (block.is_active or window.holds(start_day)) or (active_only and not block.is_active):
            continue
        totals, by_model = price_tiers(block.models, pricer)
        row = BlockRow(block, totals, by_model, over_limit=bool(limit) and block.processed_tokens > (limit or 0))
        rows.append(row)
        total.add_row(totals, None, None)
        if block.is_active:
            pace = blocks.burn(block, now_ms=now_ms, cost=totals.cost_usd if totals.cost_known else None)
            active = Active(row, pace, projected_over=bool(limit) and pace.projected_tokens > (limit or 0))
    week = blocks.week_windows(now_ms, zone)
    rolling, _ = price_tiers(blocks.window_usage(activities, week.rolling_start_ms, now_ms), pricer)
    calendar, _ = price_tiers(blocks.window_usage(activities, week.calendar_start_ms, now_ms), pricer)
    if active is not None and active.projected_over:
        warnings.append(
            f"the active block is projected to reach {active.burn.projected_tokens:,} tokens, "
            f"over the limit of {limit:,}"
        )
    return BlocksResult(rows, total, active, limit, rolling, calendar, week, cut,
                        warnings + unpriced_warnings(total.unpriced | rolling.unpriced))
