"""The garbage collector of a long-running process, set once it has started.

Everything a web or worker process loads at start (the app, mappers, schemas, compiled SQL)
lives as long as the process. Left in the collector's oldest generation, each full collection
walks it again: 40-70 ms, every few requests of a page that builds thousands of rows (a
renewals page, an assignment batch). :func:`freeze_startup` moves it out of the collector's
view (``gc.freeze``), so a full collection walks only what requests made since.
"""

from __future__ import annotations

import gc


def freeze_startup() -> None:
    """Collect once, then leave what survived (the process's start-up state) out of every later
    collection."""
    gc.collect()
    gc.freeze()


def post_worker_init(_worker) -> None:
    """gunicorn's hook (``-c python:portal_runtime.gc_tuning``): the app is loaded in the worker."""
    freeze_startup()
