"""Each command's use case as a library call, one module per command (the pipx way).

A use case opens the state, does one job and returns a result object; `syncer.cli` renders it
and tests call it directly. Everything that needs the clock, the environment or the home folder
gets it from the `Context` (`context.py`) the caller built. Modules here import what they use
at the top; the CLI imports a command's module only when that command runs, so a command pays
only for its own libraries (dulwich alone takes longer to import than an idle nightly run).
"""
