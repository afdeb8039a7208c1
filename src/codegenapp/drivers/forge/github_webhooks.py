"""GitHub's webhook deliveries: the signature check and the few events we act on, read into
`drivers.forge.events`. Only the fields we use are read (pydantic, extra fields ignored), so a
payload GitHub grows tomorrow still parses; one that lacks what we need is `WebhookInvalid`."""

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Annotated, cast

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from codegenapp.domain.events import JsonObject
from codegenapp.domain.limits import MAX_ID, STORABLE
from codegenapp.drivers.forge import WebhookDelivery
from codegenapp.drivers.forge.events import (
    BranchPushed,
    ForgeEvent,
    Pinged,
    PullRequestAction,
    PullRequestChanged,
    RecheckRequested,
)
from codegenapp.errors import WebhookInvalid

SIGNATURE_PREFIX = "sha256="
BRANCH_PREFIX = "refs/heads/"
RERUN_ACTIONS = frozenset({"rerequested"})
MAX_DELIVERY_ID = 128  # GitHub's are UUIDs; the column holds 128


class GitHubWebhooks:
    """The `WebhookReader` of GitHub, for one webhook secret."""

    forge = "github"

    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("a webhook secret must not be empty")
        self._secret = secret

    def verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookDelivery:
        check_signature(self._secret, body, headers.get("x-hub-signature-256"))
        event = headers.get("x-github-event", "").strip()
        delivery_id = headers.get("x-github-delivery", "").strip()
        if not event or not delivery_id:
            missing = "X-GitHub-Event" if not event else "X-GitHub-Delivery"
            raise WebhookInvalid(f"the {missing} header is missing")
        if len(delivery_id) > MAX_DELIVERY_ID or len(event) > 64:
            raise WebhookInvalid("the X-GitHub-Delivery or X-GitHub-Event header is too long")
        payload = load_payload(body)
        return WebhookDelivery(delivery_id, event, action_of(payload), payload)

    def parse(self, delivery: WebhookDelivery) -> ForgeEvent | None:
        return parse(delivery.event, delivery.payload)


def check_signature(secret: bytes, body: bytes, header: str | None) -> None:
    """Raise `WebhookInvalid` (401) unless `header` (X-Hub-Signature-256) is the HMAC-SHA256
    of the raw body under `secret`. Constant-time: the comparison leaks no prefix."""
    if not header:
        raise WebhookInvalid("the X-Hub-Signature-256 header is missing", status=401)
    expected = SIGNATURE_PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), header.strip().encode("latin-1")):
        raise WebhookInvalid(
            "the X-Hub-Signature-256 signature does not match the body "
            "(is GITHUB_WEBHOOK_SECRET the secret set on the webhook?)",
            status=401,
        )


def load_payload(body: bytes) -> JsonObject:
    """The delivery's JSON object; `WebhookInvalid` if it is not one (GitHub sends JSON only
    when the webhook's content type is application/json)."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise WebhookInvalid("the body is JSON nested too deeply to read") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise WebhookInvalid(
            f"the body is not JSON ({error}); set the webhook's content type to application/json"
        ) from error
    if not isinstance(payload, dict):
        raise WebhookInvalid("the body is JSON but not an object")
    return cast(JsonObject, payload)


def action_of(payload: JsonObject) -> str | None:
    action = payload.get("action")
    return action if isinstance(action, str) else None


def parse(event: str, payload: JsonObject) -> ForgeEvent | None:
    """The delivery as one of our events, or None for what we do not act on. Raise
    `WebhookInvalid` if an event we act on lacks a field we need."""
    try:
        match event:
            case "pull_request":
                return _pull_request(_PullRequestDelivery.model_validate(payload))
            case "push":
                return _push(_PushDelivery.model_validate(payload))
            case "check_run" | "check_suite" if action_of(payload) in RERUN_ACTIONS:
                return _recheck(event, payload)
            case "ping":
                ping = _PingDelivery.model_validate(payload)
                return Pinged(ping.repository.full_name if ping.repository else None)
            case _:
                return None
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        raise WebhookInvalid(f"a {event} delivery without a usable {where}") from error


# --- the fields we read ---------------------------------------------------------------------


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


# What we read is stored (pull requests, validations): bounded as the columns are, and text the
# database can hold, so that a strange delivery is a 400 naming the field, never a failure later.
Text = Annotated[str, StringConstraints(min_length=1, max_length=255), STORABLE]
LongText = Annotated[str, StringConstraints(max_length=4096), STORABLE]
Sha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")]
Number = Annotated[int, Field(ge=1, le=MAX_ID)]


class _Repository(_Read):
    full_name: Text


class _User(_Read):
    login: Annotated[str, StringConstraints(min_length=1, max_length=100), STORABLE]


class _Ref(_Read):
    ref: Text
    sha: Sha


class _PullRequest(_Read):
    number: Number
    html_url: LongText
    title: LongText
    user: _User
    head: _Ref
    base: _Ref
    draft: bool = False
    merged: bool | None = False


class _PullRequestDelivery(_Read):
    action: str
    pull_request: _PullRequest
    repository: _Repository


class _PushDelivery(_Read):
    ref: LongText
    after: Sha
    deleted: bool = False
    repository: _Repository


class _PullNumber(_Read):
    number: Number


class _CheckTarget(_Read):
    head_sha: Sha
    pull_requests: list[_PullNumber] = Field(default_factory=list, max_length=100)


class _CheckRunDelivery(_Read):
    check_run: _CheckTarget
    repository: _Repository


class _CheckSuiteDelivery(_Read):
    check_suite: _CheckTarget
    repository: _Repository


class _PingDelivery(_Read):
    repository: _Repository | None = None


def _pull_request(delivery: _PullRequestDelivery) -> PullRequestChanged | None:
    try:
        action = PullRequestAction(delivery.action)
    except ValueError:
        return None  # labeled, assigned, edited, ...: nothing to validate
    pull = delivery.pull_request
    return PullRequestChanged(
        repository=delivery.repository.full_name,
        action=action,
        number=pull.number,
        url=pull.html_url,
        title=pull.title,
        author=pull.user.login,
        head_branch=pull.head.ref,
        head_sha=pull.head.sha,
        base_branch=pull.base.ref,
        draft=pull.draft,
        merged=bool(pull.merged),
    )


def _push(delivery: _PushDelivery) -> BranchPushed | None:
    if delivery.deleted or not delivery.ref.startswith(BRANCH_PREFIX):
        return None  # a tag, or a branch that went away
    return BranchPushed(
        repository=delivery.repository.full_name,
        branch=delivery.ref.removeprefix(BRANCH_PREFIX),
        sha=delivery.after,
    )


def _recheck(event: str, payload: JsonObject) -> RecheckRequested:
    if event == "check_run":
        run = _CheckRunDelivery.model_validate(payload)
        target, repository = run.check_run, run.repository
    else:
        suite = _CheckSuiteDelivery.model_validate(payload)
        target, repository = suite.check_suite, suite.repository
    return RecheckRequested(
        repository=repository.full_name,
        head_sha=target.head_sha,
        pull_request_numbers=tuple(pull.number for pull in target.pull_requests),
    )
