"""/api/v1/webhooks: deliveries from forges. Open (no token): the signature is the
authentication, checked on the raw body before anything is parsed or stored."""

from fastapi import APIRouter, BackgroundTasks, Request, Response

from codegenapp.api.errors import Responses, described
from codegenapp.api.schemas.webhooks import WebhookReceipt
from codegenapp.domain.webhooks import MAX_DELIVERY_BYTES
from codegenapp.flows import webhooks

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
GITHUB_PATH = "/api/v1/webhooks/github"
ANSWERS: Responses = {
    200: {"model": WebhookReceipt, "description": "A delivery stored before: nothing new."},
    400: described("A header is missing, or the body is not the JSON GitHub sends."),
    401: described("X-Hub-Signature-256 is missing or does not match the body."),
    413: described(f"The body is larger than GitHub's own cap ({MAX_DELIVERY_BYTES} bytes)."),
    503: described("GitHub webhooks are off here (no GITHUB_WEBHOOK_SECRET)."),
}


@router.post("/github", status_code=202, responses=ANSWERS)
async def receive_github(
    request: Request, response: Response, background: BackgroundTasks
) -> WebhookReceipt:
    """A GitHub webhook delivery. Stored before the 2xx (a 5xx when it could not be), then
    processed in the background; a redelivery (same X-GitHub-Delivery) starts nothing new."""
    receipt = await webhooks.receive("github", await request.body(), request.headers)
    if receipt.duplicate:
        response.status_code = 200
    elif receipt.acted_on:
        # GitHub never redelivers on its own: the delivery is stored, so starting its work
        # after the answer loses nothing (a crash in between is repaired at start-up).
        background.add_task(webhooks.launch, receipt.delivery_id)
    return WebhookReceipt.of(receipt)
