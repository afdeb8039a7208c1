"""Webhook deliveries as GitHub sends them: signed, recorded, sent in the background."""

import asyncio
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from tests.fakes.github.payloads import Json

HOOKSHOT = "GitHub-Hookshot/8e03811"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class Subscription:
    hook_id: int
    url: str
    secret: str
    events: tuple[str, ...]

    def wants(self, event: str) -> bool:
        return event == "ping" or "*" in self.events or event in self.events


@dataclass(slots=True)
class Delivery:
    """One attempt to deliver an event; a redelivery is a new attempt with the same `guid`."""

    guid: str
    hook_id: int
    event: str
    action: str | None
    body: bytes
    headers: dict[str, str]
    redelivery: bool = False
    lost: bool = False
    status_code: int | None = None
    error: str | None = None

    @property
    def payload(self) -> Json:
        loaded: Json = json.loads(self.body)
        return loaded


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(slots=True)
class Webhooks:
    subscriptions: list[Subscription] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    to_lose: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _client: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(timeout=10.0, trust_env=False)
    )

    def subscribe(
        self, hook_id: int, url: str, secret: str, events: tuple[str, ...]
    ) -> Subscription:
        """Raises ValueError for a URL off loopback: the fake never calls out of the machine."""
        if urlsplit(url).hostname not in LOOPBACK:
            raise ValueError(f"webhook URL {url!r} is not on loopback")
        subscription = Subscription(hook_id, url, secret, events)
        self.subscriptions.append(subscription)
        return subscription

    def emit(
        self, event: str, payload: Json, *, only: Subscription | None = None
    ) -> list[Delivery]:
        """Records a delivery to each subscriber wanting `event`; sends them in the background."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        action = payload.get("action")
        sent = []
        for subscription in [only] if only else self.subscriptions:
            if not subscription.wants(event):
                continue
            guid = str(uuid.uuid4())
            headers = self._headers(subscription, event, body, payload)
            headers["X-GitHub-Delivery"] = guid
            delivery = Delivery(
                guid,
                subscription.hook_id,
                event,
                action if isinstance(action, str) else None,
                body,
                headers,
            )
            self._send(delivery, subscription)
            sent.append(delivery)
        return sent

    def redeliver(self, guid: str) -> Delivery:
        """Sends a delivery again with the same `X-GitHub-Delivery`, as GitHub's redeliver does."""
        original = next(d for d in self.deliveries if d.guid == guid)
        subscription = next(s for s in self.subscriptions if s.hook_id == original.hook_id)
        again = Delivery(
            original.guid,
            original.hook_id,
            original.event,
            original.action,
            original.body,
            dict(original.headers),
            redelivery=True,
        )
        self._send(again, subscription)
        return again

    async def drain(self) -> None:
        """Returns once every delivery started so far (and any they caused) has been answered."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        await self._client.aclose()

    def _send(self, delivery: Delivery, subscription: Subscription) -> None:
        self.deliveries.append(delivery)
        if self.to_lose:
            self.to_lose -= 1
            delivery.lost = True
            return
        task = asyncio.get_running_loop().create_task(self._post(delivery, subscription))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, delivery: Delivery, subscription: Subscription) -> None:
        try:
            answer = await self._client.post(
                subscription.url, content=delivery.body, headers=delivery.headers
            )
            delivery.status_code = answer.status_code
        except httpx.HTTPError as error:
            # GitHub records a failed delivery and never retries it by itself.
            delivery.error = f"{type(error).__name__}: {error}"

    @staticmethod
    def _headers(
        subscription: Subscription, event: str, body: bytes, payload: Json
    ) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": HOOKSHOT,
            "X-GitHub-Event": event,
            "X-GitHub-Hook-ID": str(subscription.hook_id),
            "X-Hub-Signature": "sha1="
            + hmac.new(subscription.secret.encode(), body, hashlib.sha1).hexdigest(),
            "X-Hub-Signature-256": signature(subscription.secret, body),
        }
        repository = payload.get("repository")
        if isinstance(repository, dict):
            headers["X-GitHub-Hook-Installation-Target-Type"] = "repository"
            headers["X-GitHub-Hook-Installation-Target-ID"] = str(repository.get("id"))
        return headers
