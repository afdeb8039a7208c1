"""GitHub's error answers: a status and the `{"message", "documentation_url"}` body it sends."""

from dataclasses import dataclass, field

DOCS = "https://docs.github.com/rest"


@dataclass(slots=True)
class GitHubError(Exception):
    """An answer GitHub gives instead of the resource; raised by handlers, rendered by the API."""

    status: int
    message: str
    documentation_url: str = DOCS
    errors: list[dict[str, str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "message": self.message,
            "documentation_url": self.documentation_url,
        }
        if self.errors is not None:
            body["errors"] = self.errors
            body["status"] = str(self.status)
        return body


def not_found() -> GitHubError:
    # GitHub hides what a caller may not see: unknown and forbidden look the same.
    return GitHubError(404, "Not Found")


def bad_credentials() -> GitHubError:
    return GitHubError(401, "Bad credentials")


def validation_failed(resource: str, **error: str) -> GitHubError:
    return GitHubError(422, "Validation Failed", errors=[{"resource": resource, **error}])


def invalid_request(detail: str) -> GitHubError:
    """GitHub's JSON-schema wording, e.g. `For 'properties/title', 1 is not a string.`"""
    return GitHubError(422, f"Invalid request.\n\n{detail}")
