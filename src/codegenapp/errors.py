"""The one exception tree of CodegenApp; `api/errors.py` maps it to HTTP in one handler.

CodegenAppError
├── InvalidInput          bad input, naming the field and what is accepted   → 422
├── NotFound              an id that does not exist                         → 404
├── Conflict              the entity is not in a state that allows this     → 409
│   └── InvalidTransition a status change its life cycle forbids            → 409
├── Unauthorized          missing or wrong token                            → 401
├── OverBudget            the project's agent budget is spent for now       → 429
├── DependencyUnavailable the database or Redis cannot be reached (start-up)
├── ForgeError            the repository host refused or failed
│   ├── RepositoryInvalid the repository cannot be used as configured       → 422
│   ├── MergeRefused      head moved, conflicts, dirty work tree            → 409
│   ├── DiffTooLarge      a diff longer than its reader takes (a person looks instead)
│   └── WebhookInvalid    a webhook delivery that is not what the forge sends → 400
├── AgentError            the coding agent refused or failed
│   ├── AgentConfigInvalid  e.g. a recipe that does not parse               → 422
│   ├── AgentRefused        the agent's API said no; asking again will not help
│   │   ├── AgentAccessDenied    the API key is unknown (401) or not in the organization (403)
│   │   ├── AgentAllowanceSpent  the plan's run allowance is spent (402)
│   │   ├── AgentNotFound        no such run, or no repository to run in (404)
│   │   └── AgentRequestInvalid  the API rejected a value we sent (422)
│   └── AgentUnavailable    unreachable, or 429/5xx still after capped retries
└── SandboxError          the sandbox could not run what it was asked
    ├── SandboxUnavailable  no usable isolation on this machine
    └── StepTimedOut        a command outlived its timeout; it was killed
"""


class CodegenAppError(Exception):
    """Base of every error we raise on purpose."""


class InvalidInput(CodegenAppError):
    """Input that cannot be accepted; `field` names where (in the body, unless `location` says
    "header", "query" or "path"), the message says what is accepted."""

    def __init__(self, field: str, message: str, *, location: str = "body") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.location = location


class OverBudget(CodegenAppError):
    """A project's agent budget (`agent.budgets`, named by `field`) allows nothing more for
    now; `retry_after` seconds until it does."""

    def __init__(self, field: str, message: str, *, retry_after: int) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.retry_after = retry_after


class NotFound(CodegenAppError):
    """No entity with that id."""


class Conflict(CodegenAppError):
    """The entity exists but its state does not allow the request."""


class InvalidTransition(Conflict):
    """A status change that the entity's life cycle (`domain/lifecycles.py`) does not allow;
    the message names the entity, both states, the move and what is allowed instead."""

    def __init__(self, entity: str, current: str, new: str, move: str, allowed: str) -> None:
        super().__init__(
            f"{entity} cannot go {current} → {new} by {move}; from {current} it may go: {allowed}"
        )
        self.entity, self.current, self.new, self.move = entity, current, new, move


class Unauthorized(CodegenAppError):
    """The request carries no valid access token."""


class DependencyUnavailable(CodegenAppError):
    """A service CodegenApp needs (its database, Redis) cannot be reached or used."""


class ForgeError(CodegenAppError):
    """The repository host refused or failed an operation."""


class RepositoryInvalid(ForgeError):
    """The repository or branch a project names cannot be used."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class MergeRefused(ForgeError):
    """The merge was refused and nothing changed: the head moved, it conflicts, or the base
    branch's checked-out work tree has local changes."""


class DiffTooLarge(ForgeError):
    """A diff longer than the `max_bytes` its reader asked for: nothing of it is returned, as a
    diff cut short could hide what its end holds."""

    def __init__(self, message: str, *, max_bytes: int) -> None:
        super().__init__(message)
        self.max_bytes = max_bytes


class WebhookInvalid(ForgeError):
    """A webhook delivery we cannot read: unsigned, wrongly signed, or not shaped as the
    forge sends it. `status` is the HTTP answer: 401 for the signature, 400 otherwise."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class AgentError(CodegenAppError):
    """The coding agent refused or failed."""


class AgentConfigInvalid(AgentError):
    """The agent settings cannot work (a missing or malformed recipe, an unknown provider)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class AgentRefused(AgentError):
    """The agent's API refused the request and asking again unchanged will not help. The
    message is the whole human reason (what we asked, and the API's own words); `status` is the
    HTTP status it answered with."""

    def __init__(self, reason: str, *, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class AgentAccessDenied(AgentRefused):
    """The API key is unknown or expired (401), or its owner is not a member of the
    organization (403)."""


class AgentAllowanceSpent(AgentRefused):
    """The organization's plan allows no more agent runs (402) until it is upgraded or renewed."""


class AgentNotFound(AgentRefused):
    """What the request names does not exist (404): the agent run, or, when starting one, any
    repository of the organization to run in."""


class AgentRequestInvalid(AgentRefused):
    """The API rejected a value we sent (422); the reason names each field and what is wrong."""


class AgentUnavailable(AgentError):
    """The agent's API could not be reached, kept answering 429 or 5xx through every capped
    retry, or answered in a shape we cannot read. `status` is its last HTTP status, if any."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class SandboxError(CodegenAppError):
    """The sandbox could not run what it was asked."""


class SandboxUnavailable(SandboxError):
    """This machine offers no sandbox of the requested kind."""


class StepTimedOut(SandboxError):
    """The command outlived its timeout; its process tree was killed."""
