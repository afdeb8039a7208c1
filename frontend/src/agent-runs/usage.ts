// How an agent's reported usage reads: "1,234 in / 567 out tokens · $0.0123 (claude-sonnet-4)".
// Only what the agent said is shown; a part it did not report is left out, never shown as 0.
import type { AgentUsage, AgentUsageTotals } from "../api/types";

const count = new Intl.NumberFormat("en-US");
const dollars = new Intl.NumberFormat("en-US", {
  style: "currency",
  currency: "USD",
  minimumFractionDigits: 2,
  maximumFractionDigits: 4,
});

type Parts = Pick<AgentUsage, "input_tokens" | "output_tokens" | "cost_usd">;

function tokens({ input_tokens: input, output_tokens: output }: Parts): string | null {
  const sides = [input !== null && `${count.format(input)} in`, output !== null && `${count.format(output)} out`];
  const said = sides.filter((side): side is string => side !== false);
  return said.length ? `${said.join(" / ")} tokens` : null;
}

function amounts(usage: Parts): string {
  const cost = usage.cost_usd !== null ? dollars.format(usage.cost_usd) : null;
  return [tokens(usage), cost].filter((part): part is string => part !== null).join(" · ");
}

/** One turn's usage, the model in parentheses. */
export function usageText(usage: AgentUsage): string {
  const text = amounts(usage);
  if (usage.model === null) return text;
  return text ? `${text} (${usage.model})` : usage.model;
}

/** The run's totals, saying how many turns they cover (turns that reported nothing are not in them). */
export function totalsText(totals: AgentUsageTotals): string {
  const turns = totals.turns === 1 ? "1 turn reported it" : `${totals.turns} turns reported it`;
  const text = amounts(totals);
  return text ? `${text} (${turns})` : `no amounts (${turns}, naming only a model)`;
}
