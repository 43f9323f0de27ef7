"""How a command is stopped from outside: SIGINT and SIGTERM as exceptions.

Ctrl-C (SIGINT) raises Python's ``KeyboardInterrupt``. While a command runs, SIGTERM
(``kill PID``, a batch scheduler's time limit, ``docker stop``) raises
:class:`Terminated`, so that ``finally`` blocks and context managers run as for
Ctrl-C: worker pools are shut down, locks released, finished results kept. Code that
must clean up on either catches both::

    try:
        ...
    except (KeyboardInterrupt, Terminated):
        stop_the_workers()
        raise

Both derive from ``BaseException``, so ``except Exception`` does not swallow them.
The ``abm`` command ends with exit status 130 after SIGINT and 143 after SIGTERM
(128 + the signal's number, as a shell reports a process killed by it).

Worker processes started with ``fork`` inherit the handler; a pool's initializer can
call :func:`default_sigterm` so that a pool terminating its workers kills them at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143


class Terminated(BaseException):
    """SIGTERM arrived while a command ran."""

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum


def _raise_terminated(signum, frame) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread; the
    previous handler comes back afterwards. Outside the main thread (where Python
    cannot set handlers) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def default_sigterm() -> None:
    """SIGTERM ends this process at once (for worker processes: a pool initializer)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
