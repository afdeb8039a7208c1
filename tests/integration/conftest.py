"""What the API suites share: a real server, once on SQLite and once on PostgreSQL, and a
client that carries the token."""

from collections.abc import AsyncIterator

import httpx
import pytest
from tests.conftest import Server


@pytest.fixture
def server_(server_on_both_databases: Server) -> Server:
    return server_on_both_databases


@pytest.fixture
async def client(server_: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server_.url, headers=server_.headers) as client:
        yield client
