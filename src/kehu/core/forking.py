"""Whether this process may fork workers safely."""

import threading


def single_threaded() -> bool:
    """True when this process runs one Python thread only. A child forked
    while another thread runs (a test's live server, say) inherits the locks
    that thread held at that moment and can wait on them forever, so work that
    would fork runs in-process instead. (Idle native pools such as OpenBLAS's,
    started at import, do not count.)"""
    return threading.active_count() == 1
