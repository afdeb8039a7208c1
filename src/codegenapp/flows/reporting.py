"""Telling the forge what happened (commit statuses, comments): useful, never load-bearing.

A forge that is down must not fail a validation or hold up a merge, so these calls run beside
the work that matters and their failures are logged, not raised.
"""

import logging
from collections.abc import Awaitable

log = logging.getLogger(__name__)


async def best_effort(what: str, call: Awaitable[None]) -> None:
    try:
        await call
    except Exception as error:
        log.warning("could not %s: %s: %s", what, type(error).__name__, error)
