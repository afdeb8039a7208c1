// What the agent has said and done so far, oldest first, growing live; the view keeps the
// newest line in sight unless the person scrolls back.
import { useLayoutEffect, useRef } from "react";
import type { Event, EventType } from "../api/types";
import { approvedChangeText, describeEvent, heldChangeText, planStrayedText } from "../activity/describe-event";
import { clockTime } from "../format/format";
import { textIn } from "../live/event-data";
import { useRunEvents } from "./queries";

const AGENT_SIDE: ReadonlySet<EventType> = new Set([
  "agent_run_started",
  "agent_run_progress",
  "agent_run_plan_ready",
  "agent_run_fix_requested",
  "agent_run_change_held",
  "agent_run_change_approved",
  "agent_run_plan_strayed",
  "agent_run_completed",
  "pull_request_opened",
  "pull_request_updated",
  "pull_request_merged",
]);

export function progressLine(event: Event): string {
  switch (event.type) {
    case "agent_run_started":
      return "Started";
    case "agent_run_progress":
      return textIn(event.data, "message") ?? "";
    case "agent_run_plan_ready":
      return "Proposed a plan: waiting for you";
    case "agent_run_fix_requested":
      return textIn(event.data, "reason") ?? "Asked the agent for a fix";
    case "agent_run_change_held":
      return `Change held for your approval: ${heldChangeText(event.data)}`;
    case "agent_run_change_approved":
      return approvedChangeText(event.data);
    case "agent_run_plan_strayed":
      return planStrayedText(event.data);
    default:
      return describeEvent(event).text.replace(/^Run \d+ /, "");
  }
}

export function RunProgress({ runId }: { runId: number }) {
  const events = useRunEvents(runId).data ?? [];
  const shown = events.filter((event) => AGENT_SIDE.has(event.type));
  const list = useRef<HTMLDivElement>(null);
  const following = useRef(true);

  useLayoutEffect(() => {
    const view = list.current;
    if (view && following.current) view.scrollTop = view.scrollHeight;
  }, [shown.length]);

  if (!shown.length) return null;
  return (
    <div>
      <h3 className="mb-1 text-sm font-semibold">Agent progress</h3>
      <div
        ref={list}
        role="log"
        aria-label="Agent progress"
        tabIndex={0}
        onScroll={(scroll) => {
          const view = scroll.currentTarget;
          following.current = view.scrollHeight - view.scrollTop - view.clientHeight < 24;
        }}
        className="max-h-64 overflow-y-auto rounded-md bg-slate-50 p-2 text-sm"
      >
        <ol className="space-y-0.5">
          {shown.map((event) => (
            <li key={event.id} className="flex gap-2">
              <time dateTime={event.ts} className="shrink-0 font-mono text-xs leading-5 text-slate-500">
                {clockTime(event.ts)}
              </time>
              <span className="min-w-0 break-words">{progressLine(event)}</span>
            </li>
          ))}
        </ol>
      </div>
    </div>
  );
}
