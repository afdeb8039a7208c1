"""The HTTP API at /api/v1, the WebSocket at /ws, and the open /health."""
