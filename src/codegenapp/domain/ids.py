"""Typed identifiers, so a validation id can never be passed where a run id is meant."""

from typing import NewType

ProjectId = NewType("ProjectId", int)
AgentRunId = NewType("AgentRunId", int)
ValidationId = NewType("ValidationId", int)
EventId = NewType("EventId", int)
