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
        raise SystemExit(0)  # always: Claude Code blanks the line on any other exit code
    # A shell asking for completions runs `ccsync` with no arguments, off a terminal, too.
    if sys.argv[1:] in ([], ["--scheduled"]) and not sys.stdout.isatty() and "_CCSYNC_COMPLETE" not in os.environ:
        # Imported here: the idle check must run before the CLI (typer, pydantic) is imported.
        from syncer import idle
        from syncer.paths import state_paths

        paths = state_paths(os.environ, Path.home())
        if idle.nothing_to_do(paths, os.environ, Path.home()):
            idle.record_idle_run(paths, datetime.now(UTC), scheduled=len(sys.argv) == 2)
            raise SystemExit(0)
    run(sys.argv[1:], leave=True)


def run(args: list[str], *, leave: bool = False) -> NoReturn:
    """A read command as `syncer.quick` parses it, else the CLI (tests run commands this way).
    With `leave`, a read command's process ends as soon as its output is out (see `_leave`)."""
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
                if leave:
                    _leave(done)
                raise
            finally:
                gc.enable()
    gc.enable()
    from syncer.cli import main as run_cli

    run_cli()


def _leave(done: SystemExit) -> None:
    """Ends a finished read command's process without the interpreter's teardown, which frees
    a team's hundreds of thousands of rows one object at a time (a tenth of the command). It
    holds no lock or temporary file by then and has nothing left to run at exit; its output is
    flushed here. A failed flush (a closed pipe) is left to the ordinary exit to report."""
    if not isinstance(done.code, int):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        return
    os._exit(done.code)


if __name__ == "__main__":
    main()
