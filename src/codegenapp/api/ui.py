"""Serves the built dashboard: hashed assets cached for good, index.html for every page path
(the dashboard routes in the browser)."""

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from codegenapp.api.errors import allowed_methods

DIST = Path(__file__).resolve().parent.parent / "ui" / "dist"
_NOT_OURS = ("api/", "ws", "health", "openapi.json", "docs", "redoc")


def is_dashboard_path(path: str) -> bool:
    """Whether `path` is one of the dashboard's (its pages and built files: no data, so no
    token is needed to load them; the dashboard asks for one before it calls the API)."""
    return not path.lstrip("/").startswith(_NOT_OURS)


_NOT_BUILT = (
    "<!doctype html><title>CodegenApp</title><p>The dashboard has not been built here. "
    "Run <code>make setup</code> (it builds <code>frontend/</code>), then reload. "
    "The API is at <code>/api/v1</code>.</p>"
)


class _ImmutableAssets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            # File names carry a content hash: a changed file is a new URL.
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def mount_dashboard(app: FastAPI, dist: Path = DIST) -> None:
    """Register last, after the API, so that API routes always win. The build is read once:
    rebuilding the dashboard means restarting the server."""
    if (dist / "assets").is_dir():
        app.mount("/assets", _ImmutableAssets(directory=dist / "assets"), name="assets")
    index = dist / "index.html"
    # Top-level files only (favicon and the like), looked up by name: no path ever reaches
    # the file system from a request.
    files = (
        {entry.name: entry for entry in dist.iterdir() if entry.is_file()} if dist.is_dir() else {}
    )
    built = index.is_file()

    @app.get("/{path:path}", include_in_schema=False)
    async def page(path: str) -> Response:
        if path.startswith(_NOT_OURS):
            # This catch-all answers every GET, so a GET on a POST-only API path lands here:
            # it is a 405 (with Allow, added by the error handler), not a 404.
            if allowed_methods(app, f"/{path}"):
                raise HTTPException(status_code=405, detail="Method Not Allowed")
            raise HTTPException(status_code=404, detail="Not Found")
        if not built:
            return HTMLResponse(_NOT_BUILT, status_code=503)
        if path in files and path != "index.html":
            return FileResponse(files[path])
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
