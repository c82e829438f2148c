"""blake2b, the one hash the read commands use (trusted files' digests, long names, entry ids),
without `import hashlib`: hashlib loads OpenSSL for its other algorithms, about 5 ms of every
read command. `_blake2` is where hashlib's own blake2b comes from: hashlib never takes
OpenSSL's, so the digests are the same."""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # an interpreter built without its own blake2 (hashlib would then use OpenSSL's)
    from hashlib import blake2b

__all__ = ["blake2b"]
