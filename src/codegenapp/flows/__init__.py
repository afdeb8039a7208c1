"""Durable workflows (DBOS): the product's story as straight-line code.

`agent_run.py` and `validation.py` are the two screens to read first. Workflows are
module-level functions because DBOS recovers them by name after a crash; they reach their
dependencies through the one bound `Runtime` (see `runtime.py`).
"""
