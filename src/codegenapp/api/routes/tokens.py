"""/api/v1/whoami: which token a request is made with, and which server answers it."""

from fastapi import APIRouter

from codegenapp import __version__
from codegenapp.api.deps import CurrentToken
from codegenapp.api.schemas.tokens import TokenRead, WhoAmIRead

router = APIRouter(tags=["tokens"])


@router.get("/whoami")
async def whoami(token: CurrentToken) -> WhoAmIRead:
    """The token this request was authenticated with (its name, id and times; never its value
    or its digest), and the server's version: what `codegenapp status` shows."""
    return WhoAmIRead(token=TokenRead.of(token), server_version=__version__)
