"""The one exception tree of CodegenApp; `api/errors.py` maps it to HTTP in one handler.

CodegenAppError
├── InvalidInput          bad input, naming the field and what is accepted   → 422
├── NotFound              an id that does not exist                         → 404
├── Conflict              the entity is not in a state that allows this     → 409
│   └── InvalidTransition a status change its life cycle forbids            → 409
├── Unauthorized          missing or wrong token                            → 401
├── DependencyUnavailable the database or Redis cannot be reached (start-up)
├── ForgeError            the repository host refused or failed
│   ├── RepositoryInvalid the repository cannot be used as configured       → 422
│   ├── MergeRefused      head moved, conflicts, dirty work tree            → 409
│   └── WebhookInvalid    a webhook delivery that is not what the forge sends → 400
├── AgentError            the coding agent refused or failed
│   └── AgentConfigInvalid  e.g. a recipe that does not parse               → 422
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


class SandboxError(CodegenAppError):
    """The sandbox could not run what it was asked."""


class SandboxUnavailable(SandboxError):
    """This machine offers no sandbox of the requested kind."""


class StepTimedOut(SandboxError):
    """The command outlived its timeout; its process tree was killed."""
