"""Access token shapes: who a token is, never the token itself nor its digest."""

from datetime import datetime

from pydantic import BaseModel, Field

from codegenapp.db.tables import ApiTokenRow


class TokenRead(BaseModel):
    id: int
    name: str = Field(description="The name it was given, e.g. `admin (generated)`.")
    created_at: datetime
    last_used_at: datetime | None = Field(description="When it was last used; null if unknown.")

    @classmethod
    def of(cls, row: ApiTokenRow) -> "TokenRead":
        return cls(
            id=row.id, name=row.name, created_at=row.created_at, last_used_at=row.last_used_at
        )


class WhoAmIRead(BaseModel):
    token: TokenRead = Field(description="The token the request was made with (not its value).")
    server_version: str = Field(description="The version of CodegenApp that answered.")
