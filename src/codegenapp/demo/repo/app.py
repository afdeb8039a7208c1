"""The demo project: a tiny web app that CodegenApp's demo asks an agent to extend."""

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GREETING = "Hello from the demo app"


def route(path: str) -> tuple[int, dict[str, str]]:
    """The answer for a GET of `path`: status code and JSON body."""
    if path == "/":
        return 200, {"message": GREETING}
    return 404, {"error": f"no page at {path}"}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = route(self.path)
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main() -> None:
    port = int(os.environ["PORT"])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    print(f"listening on port {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
