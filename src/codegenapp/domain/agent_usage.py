"""What an agent's turns used (tokens, dollars, the model), as far as the agent reports it."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AgentUsage:
    """What one turn used, as the agent reported it: each part None when it did not say. Only
    the command-line agent reports any (the Codegen API says nothing of tokens or cost)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
    model: str | None = None


@dataclass(frozen=True, slots=True)
class UsageTotals:
    """A run's usage summed over the `turns` that reported any; a part is None when no turn
    reported it. Turns that reported nothing are not in the sums, so these are lower bounds."""

    turns: int
    input_tokens: int | None = None
    output_tokens: int | None = None
    cost_usd: float | None = None
