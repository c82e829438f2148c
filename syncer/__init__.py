"""ccsync: a permanent, exact record of the tokens AI coding CLIs spend, synced through git."""

__version__ = "0.1.0"
