"""Project secret shapes: a value goes in, only names and times come out."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from codegenapp.db.tables import ProjectSecretRow
from codegenapp.domain.limits import STORABLE
from codegenapp.domain.masking import MIN_SECRET_LENGTH
from codegenapp.domain.project_settings import MAX_ENV_NAME_LENGTH, check_env_name

MAX_SECRET_VALUE_LENGTH = 16 * 1024

SecretName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_ENV_NAME_LENGTH,
        description="The environment variable the project's commands read it from.",
    ),
    STORABLE,
    AfterValidator(check_env_name),
]


class ProjectSecretCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: SecretName
    value: Annotated[
        str,
        Field(
            # A shorter value cannot be told apart from ordinary log text: no masking.
            min_length=MIN_SECRET_LENGTH,
            max_length=MAX_SECRET_VALUE_LENGTH,
            description=f"Stored encrypted; never returned, never in a log. At least "
            f"{MIN_SECRET_LENGTH} characters, or it could not be masked.",
            json_schema_extra={"writeOnly": True},
        ),
        STORABLE,
    ]


class ProjectSecretRead(BaseModel):
    name: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: ProjectSecretRow) -> "ProjectSecretRead":
        return cls(name=row.name, created_at=row.created_at, updated_at=row.updated_at)
