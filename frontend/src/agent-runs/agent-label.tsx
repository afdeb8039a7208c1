// Which agent answers: the scripted stand-in is never to be mistaken for an AI.
import { Bot, ScrollText } from "lucide-react";

/** `provider`: the run's agent driver once it has started, else the project's agent provider.
 * `isAi`: null while nobody knows yet (the run's agent job has not started): then it says
 * neither. */
export function agentName(provider: string | null | undefined, isAi: boolean | null): string {
  if (provider === "scripted") return "Scripted agent (not AI)";
  if (!provider) return "Agent";
  if (isAi === null) return `${provider} agent`;
  return isAi ? `${provider} agent (AI)` : `${provider} agent (not AI)`;
}

export function AgentLabel({ provider, isAi }: { provider: string | null | undefined; isAi: boolean | null }) {
  const Icon = isAi === true && provider !== "scripted" ? Bot : ScrollText;
  return (
    <span className="inline-flex items-center gap-1 text-sm text-slate-700">
      <Icon aria-hidden="true" className="size-4" />
      {agentName(provider, isAi)}
    </span>
  );
}
