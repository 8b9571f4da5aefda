"""Worker processes that end with the process that started them.

The local executor's workers and the image collector's decoders are forked by
multiprocessing's fork server, so their parent is the server, not the run: Linux's
``PR_SET_PDEATHSIG`` would fire only when the server ends, and the server lives while any of
its children holds its ``alive`` pipe. A run killed with ``kill -9`` would leave its idle
workers, and their server, waiting for work forever. :func:`die_with_parent` is called in a
worker's initializer and ends the worker when the process that started it does.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from multiprocessing.connection import wait


def die_with_parent() -> None:
    """Kill this process (SIGKILL, as ``PR_SET_PDEATHSIG`` would) as soon as the process that
    started it through multiprocessing ends, even mid-task; nothing in a process that
    multiprocessing did not start.

    multiprocessing gives each child a sentinel of the process that started it, which becomes
    readable when that process ends; a daemon thread waits on it. Once the workers are gone,
    a fork server sees the end of its ``alive`` pipe and exits too.
    """
    parent = mp.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
