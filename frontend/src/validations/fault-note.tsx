// Whose fault a verdict other than a pass is, said so a person knows at a glance what happens
// next: the agent fixes it (code), they fix the project's settings (setup), or nobody can yet
// (infrastructure).
import { Bot, ServerCrash, Wrench } from "lucide-react";
import type { Fault, Validation } from "../api/types";
import { branchAt } from "../format/format";
import { Link } from "../routing/link";
import { paths } from "../routing/routes";
import { FAULTS } from "../states/state-words";

const icons: Record<Fault, typeof Bot> = { code: Bot, setup: Wrench, infrastructure: ServerCrash };

type Noted = Pick<Validation, "fault" | "kind" | "project_id" | "base_branch" | "base_sha">;

/** The full note, for one validation's view; nothing for a pass or a verdict not yet given. */
export function FaultNote({ validation }: { validation: Noted }) {
  const { fault } = validation;
  if (fault === null) return null;
  const Icon = icons[fault];
  const { word, meaning } = FAULTS[fault];
  if (fault !== "setup") {
    return (
      <p role="note" aria-label="Whose fault" className="flex items-start gap-2 text-sm text-slate-800">
        <Icon aria-hidden="true" className="mt-0.5 size-4 shrink-0 text-slate-600" />
        <span>
          <strong>{word}:</strong> {meaning}
        </span>
      </p>
    );
  }
  // The one verdict the person has to act on: the project's CI settings are wrong.
  const base = validation.base_sha ? branchAt(validation.base_branch, validation.base_sha) : null;
  return (
    <div
      role="note"
      aria-label="Whose fault"
      className="flex items-start gap-2 rounded-md border-2 border-amber-500 bg-amber-50 p-3 text-sm text-amber-950"
    >
      <Icon aria-hidden="true" className="mt-0.5 size-5 shrink-0 text-amber-700" />
      <div className="min-w-0 space-y-1">
        <p className="font-semibold">
          {word}: {meaning}
        </p>
        <p className="break-words">
          {validation.kind === "pull_request" && (
            <>
              {base ? `Compared with ${base}. ` : ""}The agent was not asked to fix it: the change is not what
              fails.{" "}
            </>
          )}
          <Link to={paths.editProject(validation.project_id)} className="font-medium text-blue-800 underline">
            Edit the project's settings
          </Link>
        </p>
      </div>
    </div>
  );
}

/** The short form, for a list of attempts: an icon and the word. */
export function FaultTag({ fault }: { fault: Fault | null }) {
  if (fault === null) return null;
  const Icon = icons[fault];
  return (
    <span
      title={`${FAULTS[fault].word}: ${FAULTS[fault].meaning}`}
      className={`inline-flex items-center gap-1 text-xs ${fault === "setup" ? "font-semibold text-amber-900" : "text-slate-600"}`}
    >
      <Icon aria-hidden="true" className="size-3.5" />
      {FAULTS[fault].word}
    </span>
  );
}
