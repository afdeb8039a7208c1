// The run's conversation with its agent, one entry a turn, oldest first: what was sent (the goal,
// a plan answer, a person's message, a failed validation's fix request), how the agent answered,
// and what it used when it said (only a command-line agent with a usage file does).
import { LoaderCircle } from "lucide-react";
import { useId } from "react";
import type { AgentInteraction } from "../api/types";
import { Button } from "../controls/button";
import { Problem, errorText } from "../controls/problem";
import { between, dateTime } from "../format/format";
import { CollapsibleText } from "./collapsible-text";
import { useInteractions } from "./queries";
import { totalsText, usageText } from "./usage";

type AnswerKind = NonNullable<AgentInteraction["answer_kind"]>;

const SENT: Record<AgentInteraction["kind"], string> = {
  goal: "Goal",
  plan_answer: "Plan answer",
  message: "Your message",
  fix: "Fix request",
};

const ANSWERED: Record<AnswerKind, string> = {
  reply: "Reply",
  plan: "Plan",
  pull_request: "Pull request",
  failed: "Failed",
  cancelled: "Cancelled",
  over_budget: "Over budget",
};

// The words carry the outcome; the colour only repeats it.
const ANSWER_LOOK: Record<AnswerKind, string> = {
  reply: "text-slate-900",
  plan: "text-slate-900",
  pull_request: "text-slate-900",
  failed: "text-red-800",
  cancelled: "text-slate-600",
  over_budget: "text-red-800",
};

function sentLabel(turn: AgentInteraction): string {
  // The dashboard has no page of a validation's own: the run's validations are shown below.
  if (turn.kind === "fix" && turn.validation_id !== null) return `Fix request for validation #${turn.validation_id}`;
  return SENT[turn.kind];
}

function answerLabel(kind: AnswerKind, pullRequest: number | null): string {
  return kind === "pull_request" && pullRequest !== null ? `Pull request #${pullRequest}` : ANSWERED[kind];
}

export function Conversation({ runId }: { runId: number }) {
  const interactions = useInteractions(runId);
  const headingId = useId();
  const pages = interactions.data?.pages ?? [];
  const turns = pages.flatMap((page) => page.items);
  const total = pages.at(-1)?.total ?? 0;
  const totals = pages.at(-1)?.usage_totals ?? null;

  let body;
  if (interactions.isError && !interactions.data) {
    body = <Problem>Could not load the conversation: {errorText(interactions.error)}</Problem>;
  } else if (!interactions.data) {
    body = <p className="text-sm text-slate-500">Loading the conversation…</p>;
  } else if (!turns.length) {
    // Runs from before turns were kept have none.
    body = <p className="text-sm text-slate-500">No conversation was recorded for this run.</p>;
  } else {
    body = (
      <>
        <ol aria-label="Turns" className="space-y-3">
          {turns.map((turn) => (
            <Turn key={turn.turn} turn={turn} />
          ))}
        </ol>
        {interactions.hasNextPage && (
          <div className="flex flex-wrap items-center gap-3">
            <Button onClick={() => void interactions.fetchNextPage()} disabled={interactions.isFetchingNextPage}>
              Load more
            </Button>
            <span className="text-xs text-slate-500">
              {turns.length} of {total} turns shown
            </span>
          </div>
        )}
        {interactions.isFetchNextPageError && <Problem>Could not load more turns: {errorText(interactions.error)}</Problem>}
      </>
    );
  }

  return (
    <section aria-labelledby={headingId} className="space-y-2">
      <h3 id={headingId} className="text-sm font-semibold">
        Conversation
      </h3>
      {totals && <p className="text-xs text-slate-600">Agent's reported usage, whole run: {totalsText(totals)}</p>}
      {body}
    </section>
  );
}

function Turn({ turn }: { turn: AgentInteraction }) {
  const sent = sentLabel(turn);
  return (
    <li className="space-y-2 border-l-2 border-slate-200 pl-3">
      <div className="space-y-1">
        <div className="flex flex-wrap items-baseline justify-between gap-x-3">
          <h4 className="text-sm font-semibold">{sent}</h4>
          <span className="text-xs text-slate-500">
            Turn {turn.turn}, sent <time dateTime={turn.sent_at}>{dateTime(turn.sent_at)}</time>
          </span>
        </div>
        <CollapsibleText text={turn.prompt} label={`${sent}: what was sent`} mono={turn.kind === "fix"} />
      </div>
      <Answer turn={turn} />
    </li>
  );
}

function Answer({ turn }: { turn: AgentInteraction }) {
  if (turn.answer_kind === null) {
    return (
      <p role="status" className="flex items-center gap-1.5 text-sm text-slate-600">
        <LoaderCircle aria-hidden="true" className="size-4 animate-spin motion-reduce:animate-none" />
        The agent is working…
      </p>
    );
  }
  const label = answerLabel(turn.answer_kind, turn.pull_request_number);
  const took = between(turn.sent_at, turn.answered_at);
  return (
    <div className="space-y-1">
      <div className="flex flex-wrap items-baseline justify-between gap-x-3">
        <p className={`text-sm font-semibold ${ANSWER_LOOK[turn.answer_kind]}`}>{label}</p>
        {turn.answered_at !== null && (
          <span className="text-xs text-slate-500">
            answered <time dateTime={turn.answered_at}>{dateTime(turn.answered_at)}</time>
            {took !== null && `, after ${took}`}
          </span>
        )}
      </div>
      {turn.answer && <CollapsibleText text={turn.answer} label={`${label}: the agent's answer`} />}
      {turn.usage && <p className="text-xs text-slate-500">Used: {usageText(turn.usage)}</p>}
    </div>
  );
}
