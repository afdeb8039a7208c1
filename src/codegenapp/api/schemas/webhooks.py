"""What a forge is told when it delivers a webhook."""

from pydantic import BaseModel

from codegenapp.flows.webhooks import Receipt


class WebhookReceipt(BaseModel):
    delivery_id: str
    event: str
    action: str | None
    duplicate: bool  # already stored: nothing new starts
    acted_on: bool  # False: an event this server acknowledges and ignores

    @classmethod
    def of(cls, receipt: Receipt) -> "WebhookReceipt":
        return cls(
            delivery_id=receipt.delivery_id,
            event=receipt.event,
            action=receipt.action,
            duplicate=receipt.duplicate,
            acted_on=receipt.acted_on,
        )
