"""The git boundary: the sync repo's local bare copy, fetch, compare-and-swap push, offline reads.

The only package that imports dulwich (STYLE.md habit 2). It never shells out to git and never
checks out a working tree: trees are read and built in memory from dulwich objects (DESIGN.md
§4). One public entry per operation:

- `urls`: `validate_remote`, `credentials_for`, `redact` (no dulwich: cheap to import)
- `limits`: `bounded`, the timeout on every connect and read and the deadline of a sync (no dulwich)
- `local`: `open_repo`, `init_bare_remote`, `prepare_local_remote`
- `transport`: `fetch`, `remote_tip`
- `snapshot`: `snapshot`, the last fetched state, offline
- `sync`: `sync_files`, the sync algorithm

This file imports nothing, so `syncer.git.urls` costs no dulwich import.
"""
