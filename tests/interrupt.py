"""Commands a test stops with Ctrl-C (SIGINT), started with SIGINT at its default.

A child inherits an ignored or blocked SIGINT from the process that starts it, and Python only
turns SIGINT into KeyboardInterrupt when it starts with the default. In a long suite a test
worker's disposition is not guaranteed (a `wwc simulate` once ignored the test's SIGINT for 30 s
on an xdist worker, after hundreds of other tests had run there), so the child sets it back
before it becomes the command under test.
"""

from __future__ import annotations

import sys

_RESET = (
    "import os, signal, sys; "
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def interruptible(argv: list[str]) -> list[str]:
    """`argv` run with SIGINT unblocked and at its default (then exec'd: same pid, same process)."""
    return [sys.executable, "-c", _RESET, *argv]
