"""The REST endpoints the fake serves, one module per area of GitHub's API."""

from starlette.routing import Route
from tests.fakes.github.endpoints import apps, checks, issues, pulls, repos

ROUTES: list[Route] = apps.ROUTES + repos.ROUTES + pulls.ROUTES + checks.ROUTES + issues.ROUTES
