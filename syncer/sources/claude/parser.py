"""Claude Code: how one log line becomes a usage event (DESIGN.md §2)."""

from __future__ import annotations

from typing import Any

from syncer.blake import blake2b
from syncer.events import MAX_TOKENS, BadLine, Event, count, json_object, parse_time_ms
from syncer.sources.adapter import Emit, Reject

USAGE_MARK = b'"usage"'


class ClaudeParser:
    """Claude lines stand alone: only those that mention usage are parsed; most bytes are
    tool results, never parsed."""

    def feed(self, data: bytes, end: int, emit: Emit, reject: Reject) -> None:
        find, rfind = data.find, data.rfind
        position = 0
        while True:
            mark = find(USAGE_MARK, position, end)
            if mark < 0:
                return
            start = rfind(b"\n", position, mark) + 1 or position
            stop = find(b"\n", mark, end)
            position = stop + 1
            try:
                event = parse_marked_line(data[start:stop])
            except BadLine as exc:
                reject(start, str(exc))
                continue
            if event is not None:
                emit(event)

    def finish(self, rest: bytes, emit: Emit, reject: Reject) -> None:
        """Claude logs are resumable: the scanner reads a final line without its newline."""


def parse_line(line: bytes) -> Event | None:
    """The usage event a line carries, or None for lines that carry none (user turns,
    summaries, `<synthetic>` client errors). Raises BadLine for a line that should carry
    usage but cannot be read."""
    # Nine lines in ten are user turns and tool results: skip them without parsing JSON.
    if b'"usage"' not in line:
        return None
    return parse_marked_line(line)


def parse_marked_line(line: bytes) -> Event | None:
    """`parse_line` for a line already known to contain `"usage"` (the scanner found it).

    The hot loop of a cold scan: checks are inlined, and the common shape (every count an int
    in range) takes the fewest steps; anything else goes through `count`, which decides."""
    record = json_object(line)
    kind = record.get("type")
    inner: Any
    if kind == "assistant":
        inner = record
    elif kind == "progress":
        # Some builds copy a subagent's responses into the parent as progress lines.
        data = record.get("data")
        inner = data.get("message") if type(data) is dict else None
        if type(inner) is not dict or inner.get("type") != "assistant":
            return None
    else:
        return None
    message = inner.get("message")
    if type(message) is not dict:
        raise BadLine("assistant line without a message")
    model = message.get("model")
    if model == "<synthetic>":
        return None
    usage = message.get("usage")
    if type(usage) is not dict:
        raise BadLine("assistant line without usage")
    if type(model) is not str or not model:
        raise BadLine("assistant line without a model")

    get = usage.get
    i = get("input_tokens", 0)
    o = get("output_tokens", 0)
    c = get("cache_creation_input_tokens", 0)
    r = get("cache_read_input_tokens", 0)
    if not (
        type(i) is int and type(o) is int and type(c) is int and type(r) is int
        and 0 <= i < MAX_TOKENS and 0 <= o < MAX_TOKENS and 0 <= c < MAX_TOKENS and 0 <= r < MAX_TOKENS
    ):
        c = count(c, "usage.cache_creation_input_tokens")
        i = count(i, "usage.input_tokens")
        o = count(o, "usage.output_tokens")
        r = count(r, "usage.cache_read_input_tokens")
    split = get("cache_creation")
    if type(split) is dict:
        h = split.get("ephemeral_1h_input_tokens", 0)
        if not (type(h) is int and 0 <= h < MAX_TOKENS):
            h = count(h, "usage.ephemeral_1h")
        if h > c:
            h = c
    else:
        h = 0

    message_id = message.get("id")
    if type(message_id) is not str or not message_id:
        message_id = None
    request_id = inner.get("requestId")
    if message_id and type(request_id) is str and request_id:
        key = message_id + ":" + request_id
    elif message_id:
        key = message_id
    else:
        key = "line:" + blake2b(line.rstrip(b"\r"), digest_size=16).hexdigest()

    time_ms = parse_time_ms(inner.get("timestamp") or record.get("timestamp"))
    if inner is record:
        session = record.get("sessionId") or ""
        cwd = record.get("cwd") or ""
        branch = record.get("gitBranch") or ""
    else:
        session = record.get("sessionId") or inner.get("sessionId") or ""
        cwd = record.get("cwd") or inner.get("cwd") or ""
        branch = record.get("gitBranch") or inner.get("gitBranch") or ""
    event = Event(
        key,
        message_id,
        time_ms,
        model,
        (i, o, c, h, r),
        session if type(session) is str else "",
        cwd if type(cwd) is str else "",
        branch if type(branch) is str else "",
        inner.get("isSidechain") is True,
        get("speed") == "fast",
    )
    iterations = get("iterations")
    if type(iterations) is list:
        event.extra = _billed_apart(event, iterations)
    return event


def _billed_apart(event: Event, iterations: list[Any]) -> list[Event]:
    """Sampling steps of one request that the top-level usage leaves out, as events of their
    own. Anthropic: the top-level counts are the sum of the `message` (executor) iterations;
    `compaction` steps (same model) and `advisor_message` steps (the advisor's model, at its
    rates) are billed on top, and the request's bill is the sum over all iterations. Each is
    keyed by its place in the array, which stays put as later lines of the response repeat it."""
    extra: list[Event] = []
    for n, step in enumerate(iterations):
        if type(step) is not dict or step.get("type", "message") == "message":
            continue
        nested = step.get("usage")
        counts: dict[str, Any] = nested if type(nested) is dict else step
        named = step.get("model")
        model = named if type(named) is str and named else event.model
        create = count(counts.get("cache_creation_input_tokens"), "usage.iterations.cache_creation_input_tokens")
        split = counts.get("cache_creation")
        one_hour = 0
        if type(split) is dict:
            one_hour = count(split.get("ephemeral_1h_input_tokens"), "usage.iterations.ephemeral_1h")
        extra.append(Event(
            f"{event.key}/{n}",
            None,
            event.time_ms,
            model,
            (
                count(counts.get("input_tokens"), "usage.iterations.input_tokens"),
                count(counts.get("output_tokens"), "usage.iterations.output_tokens"),
                create,
                min(one_hour, create),
                count(counts.get("cache_read_input_tokens"), "usage.iterations.cache_read_input_tokens"),
            ),
            event.session,
            event.cwd,
            event.branch,
            event.sidechain,
            event.fast and model == event.model,
        ))
    return extra
