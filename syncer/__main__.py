"""`ccsync` and `python -m syncer`: the fast paths (the status line, the nightly job with nothing
to do, and the read commands without typer) before the full CLI, whose imports alone would take
longer than the first two, and as long as the third."""

from __future__ import annotations

import gc
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn


def main() -> NoReturn:
    # Collected again before the full CLI: see `run`, and the fast paths below live as briefly.
    gc.disable()
    # No pydantic plugins: finding them scans every installed package's metadata on each run.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    if sys.argv[1:2] == ["statusline"] and not (set(sys.argv[2:3]) & {"install", "remove", "status", "--help"}):
        from syncer import statusline

        sys.stdout.write(statusline.line(sys.argv[2:], sys.stdin.buffer, os.environ, Path.home()) + "\n")
        _leave(0)
        raise SystemExit(0)  # always: Claude Code blanks the line on any other exit code
    # A shell asking for completions runs `ccsync` with no arguments, off a terminal, too.
    if sys.argv[1:] in ([], ["--scheduled"]) and not sys.stdout.isatty() and "_CCSYNC_COMPLETE" not in os.environ:
        # Imported here: the idle check must run before the CLI (typer, pydantic) is imported.
        from syncer import idle
        from syncer.paths import state_paths

        paths = state_paths(os.environ, Path.home())
        if idle.nothing_to_do(paths, os.environ, Path.home()):
            idle.record_idle_run(paths, datetime.now(UTC), scheduled=len(sys.argv) == 2)
            _leave(0)
            raise SystemExit(0)
    run(sys.argv[1:], leave=True)


def run(args: list[str], *, leave: bool = False) -> NoReturn:
    """A read command as `syncer.quick` parses it, else the CLI (tests run commands this way).
    With `leave`, a read command's process ends as soon as its output is out (`_leave`)."""
    if "_CCSYNC_COMPLETE" not in os.environ:
        from syncer import console, quick

        command = quick.parse(args)
        if command is not None:
            # A read command lives a fraction of a second and leaves no garbage cycles worth
            # collecting; the collector's walks over its imports and rows cost a tenth of it.
            gc.disable()
            try:
                console.run(command)
            except SystemExit as done:
                if leave and isinstance(done.code, int):
                    _leave(done.code)
                raise
            finally:
                gc.enable()
    gc.enable()
    from syncer.cli import main as run_cli

    run_cli()


def _leave(code: int) -> None:
    """Ends a finished fast path's process (a read command, the status line, a night with
    nothing new) without the interpreter's teardown: unloading every module and freeing a
    team's hundreds of thousands of rows one object at a time takes 20-30 ms, a tenth of a read
    command and a fifth of the status line. None holds a lock or a temporary file by then, or
    has anything left to run at exit; their output is flushed here. A failed flush (a closed
    pipe) is left to the ordinary exit to report."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        return
    os._exit(code)


if __name__ == "__main__":
    main()
