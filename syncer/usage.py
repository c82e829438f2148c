"""Token counts: the one record every layer (parser, ledger, pricing, reports) passes around."""

from __future__ import annotations

FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_tokens",
    "cache_creation_1h_tokens",
    "cache_read_tokens",
)

TokenCounts = tuple[int, int, int, int, int]
"""A response's counts in `FIELDS` order: how events and index entries carry them compactly."""


class Usage:
    """Tokens of one response, or a sum of responses (added to in place: reports sum rows into it).

    `cache_creation_1h_tokens` is the part of `cache_creation_tokens` written to the one-hour
    cache (priced higher than the five-minute cache); it is never more than the whole.
    """

    __slots__ = FIELDS

    def __init__(self, input_tokens: int = 0, output_tokens: int = 0, cache_creation_tokens: int = 0,
                 cache_creation_1h_tokens: int = 0, cache_read_tokens: int = 0) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cache_creation_tokens = cache_creation_tokens
        self.cache_creation_1h_tokens = cache_creation_1h_tokens
        self.cache_read_tokens = cache_read_tokens

    def as_tuple(self) -> TokenCounts:
        return (
            self.input_tokens,
            self.output_tokens,
            self.cache_creation_tokens,
            self.cache_creation_1h_tokens,
            self.cache_read_tokens,
        )

    @property
    def total_tokens(self) -> int:
        """Every token, cache reads included (ccusage's `totalTokens`)."""
        return self.input_tokens + self.output_tokens + self.cache_creation_tokens + self.cache_read_tokens

    @property
    def processed_tokens(self) -> int:
        """Input + output + cache creation: the default goal metric (cache reads excluded)."""
        return self.input_tokens + self.output_tokens + self.cache_creation_tokens

    def add(self, other: Usage) -> None:
        # Spelled out, not a loop over FIELDS with getattr: reports call this once per row.
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_creation_tokens += other.cache_creation_tokens
        self.cache_creation_1h_tokens += other.cache_creation_1h_tokens
        self.cache_read_tokens += other.cache_read_tokens

