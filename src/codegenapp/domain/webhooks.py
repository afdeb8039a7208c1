"""What became of a webhook delivery, and the limits every delivery is held to."""

from enum import StrEnum

# GitHub caps a delivery's payload at 25 MB and drops larger ones; we refuse beyond it too.
MAX_DELIVERY_BYTES = 25 * 1024 * 1024


class DeliveryStatus(StrEnum):
    RECEIVED = "received"  # stored and acknowledged; its processing is due
    PROCESSED = "processed"  # acted on
    IGNORED = "ignored"  # an event we do not act on, or one for no project of ours
    FAILED = "failed"  # processing stopped on an error (recorded with it)
