// How the agent's pull request keeps to the plan a person confirmed. Straying is flagged, never
// held: a plan names intent, not every helper file, so the person decides whether it matters.
import { ListChecks, TriangleAlert } from "lucide-react";
import { useId } from "react";
import type { PlanDrift } from "../api/types";

/** Longer lists of paths start folded, so that the warning itself stays in sight. */
const PATHS_SHOWN_OPEN = 10;

export function PlanDriftNote({ drift }: { drift: PlanDrift }) {
  const headingId = useId();
  if (!drift.strays) {
    return (
      <p className="flex items-center gap-1.5 text-sm text-slate-600">
        <ListChecks aria-hidden="true" className="size-4" />
        The pull request keeps to the confirmed plan.
      </p>
    );
  }
  const count = drift.unnamed.length;
  const paths = (
    <ul aria-label="Changed files the plan does not name" className="mt-1 space-y-0.5">
      {drift.unnamed.map((path) => (
        <li key={path} className="font-mono text-xs break-all">
          {path}
        </li>
      ))}
    </ul>
  );
  return (
    <section aria-labelledby={headingId} className="space-y-1 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm">
      <h3 id={headingId} className="flex items-center gap-1.5 font-semibold text-amber-950">
        <TriangleAlert aria-hidden="true" className="size-4" />
        The pull request strays from the confirmed plan
      </h3>
      <p>
        {count} of {drift.changed} changed files {count === 1 ? "is" : "are"} not named in it
        {count > 0 ? ":" : "."}
      </p>
      {count > PATHS_SHOWN_OPEN ? (
        <details>
          <summary className="cursor-pointer font-medium">Show the {count} files</summary>
          {paths}
        </details>
      ) : (
        count > 0 && paths
      )}
    </section>
  );
}
