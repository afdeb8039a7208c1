"""Interactive API documentation at /docs, when the server is asked for it (CODEGENAPP_API_DOCS).

Off by default: the OpenAPI document maps the whole API. When on, the page needs the access
token like /openapi.json does (`/docs?token=<token>`, as the dashboard's login URL); Swagger
UI's files come with the dashboard's build (npm's `swagger-ui-dist`, copied by
`frontend/vite.config.ts`), never from a CDN, and our own script (no inline code: the CSP
forbids it) takes the token out of the address bar and sends it as a header with every
request the page makes.
"""

from pathlib import Path

from fastapi import FastAPI, HTTPException
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from codegenapp.api.ui import DIST

ASSETS = "/docs/assets"

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>CodegenApp API</title>
  <link rel="stylesheet" href="{ASSETS}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{ASSETS}/swagger-ui-bundle.js"></script>
  <script src="{ASSETS}/codegenapp-docs.js"></script>
</body>
</html>
"""

_SCRIPT = """\
// The token came in the address (?token=...): keep it for this tab only, and out of the URL.
(function () {
  var params = new URLSearchParams(window.location.search);
  var token = params.get("token") || window.sessionStorage.getItem("codegenapp.docs-token");
  if (token) window.sessionStorage.setItem("codegenapp.docs-token", token);
  window.history.replaceState(null, "", window.location.pathname);
  window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    requestInterceptor: function (request) {
      if (token) request.headers.Authorization = "Bearer " + token;
      return request;
    },
  });
})();
"""


def mount_docs(app: FastAPI, dist: Path = DIST) -> None:
    """Register before the dashboard, whose catch-all route would otherwise answer /docs."""
    files = dist / "docs"
    built = (files / "swagger-ui-bundle.js").is_file()

    @app.get("/docs", include_in_schema=False)
    async def docs_page() -> HTMLResponse:
        if not built:
            raise HTTPException(503, "the API docs are not built here: run `make setup`")
        return HTMLResponse(_PAGE, headers={"Cache-Control": "no-store"})

    @app.get(f"{ASSETS}/codegenapp-docs.js", include_in_schema=False)
    async def docs_script() -> Response:
        return Response(_SCRIPT, media_type="text/javascript")

    if built:
        app.mount(ASSETS, StaticFiles(directory=files), name="docs-assets")
