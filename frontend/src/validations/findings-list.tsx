// What the browser saw, page by page and scenario by scenario, from the findings artifact.
// Everything here is text the preview produced (a page's errors, its URLs): it is rendered as
// React text, never as HTML.
import type { Findings, JudgeFindings, Observed, PageFindings, ScenarioFindings } from "./findings";

const VERDICT_WORDS = {
  meets: "meets the goal",
  does_not_meet: "does not meet the goal",
  unsure: "is unsure whether the goal is met",
} as const;

export function FindingsList({ findings }: { findings: Findings }) {
  return (
    <div className="space-y-3 text-sm">
      {findings.problems.length > 0 && (
        <ul aria-label="Problems found" className="list-disc space-y-0.5 pl-5 text-red-800">
          {findings.problems.map((problem, index) => (
            <li key={index} className="break-words">
              {problem}
            </li>
          ))}
        </ul>
      )}
      {findings.planNotes.length > 0 && (
        <ul aria-label="Not run from the plan" className="list-disc space-y-0.5 pl-5 text-amber-800">
          {findings.planNotes.map((note, index) => (
            <li key={index} className="break-words">
              {note}
            </li>
          ))}
        </ul>
      )}
      {findings.judge && <JudgeVerdict judge={findings.judge} />}
      {findings.pages.map((page, index) => (
        <PageFindingsItem key={`page-${index}`} page={page} />
      ))}
      {findings.scenarios.map((run, index) => (
        <ScenarioFindingsItem key={`scenario-${index}`} run={run} />
      ))}
    </div>
  );
}

/** The AI judge's verdict in our words; its reasons are the model's, shown as text. */
function JudgeVerdict({ judge }: { judge: JudgeFindings }) {
  const model = judge.model ? ` (${judge.model})` : "";
  const weight = judge.gate ? "a gate: this verdict can fail the step" : "reported only";
  const alarming = judge.verdict === "does_not_meet";
  return (
    <section aria-label="AI judge" className="rounded-md bg-slate-50 p-2">
      <h5 className="font-medium">
        AI judge{model}:{" "}
        {judge.verdict ? (
          <span className={alarming ? "text-red-800" : undefined}>{VERDICT_WORDS[judge.verdict]}</span>
        ) : (
          <span className="text-slate-700">{judge.noVerdict}</span>
        )}
      </h5>
      {judge.verdict && <p className="text-xs text-slate-600">{weight}</p>}
      {judge.reasons.length > 0 && (
        <ul aria-label="The judge's reasons" className="list-disc space-y-0.5 pl-5">
          {judge.reasons.map((reason, index) => (
            <li key={index} className="break-words">
              {reason}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function PageFindingsItem({ page }: { page: PageFindings }) {
  const answer = page.error !== null ? `not opened (${page.error})` : page.status !== null ? `HTTP ${page.status}` : "no HTTP answer";
  return (
    <section aria-label={`Findings on page ${page.path}`}>
      <h5 className="font-medium break-all">
        GET {page.path}: {answer}
      </h5>
      <ObservedList seen={page.seen} />
    </section>
  );
}

function ScenarioFindingsItem({ run }: { run: ScenarioFindings }) {
  const failed = run.steps.find((step) => !step.passed);
  return (
    <section aria-label={`Findings of scenario ${run.name}${run.fromPlan ? " from the plan" : ""}`}>
      <h5 className="font-medium break-words">
        Scenario “{run.name}”
        {run.fromPlan && (
          <>
            {" "}
            <span className="rounded bg-indigo-50 px-1.5 py-0.5 text-xs font-normal text-indigo-800">from the plan</span>
          </>
        )}
        :{" "}
        {failed ? `failed at step ${failed.index}` : "passed"}
      </h5>
      <ol className="list-none space-y-0.5 pl-3">
        {run.steps.map((step) => (
          <li key={step.index} className="break-words">
            {step.index}. {step.action}:{" "}
            {step.passed ? step.seen : <strong className="text-red-800">failed: expected {step.expected}; {step.seen}</strong>}
          </li>
        ))}
      </ol>
      <ObservedList seen={run.seen} />
    </section>
  );
}

function ObservedList({ seen }: { seen: Observed }) {
  const items = [
    ...seen.pageErrors.map((error) => `Uncaught ${error.message}${at(error.location)}`),
    ...seen.consoleErrors.map((error) => `Console error: ${error.text}${at(error.location)}`),
    ...seen.failedRequests.map(
      (request) =>
        `Failed request: ${request.method} ${request.url} → ${request.status !== null ? `${request.status} ` : ""}${request.reason}`,
    ),
    ...seen.blockedRequests.map((blocked) => `Blocked, outside the preview (never sent): ${blocked.resource} ${blocked.url}`),
  ];
  if (!items.length) return <p className="pl-3 text-slate-600">No errors seen.</p>;
  return (
    <ul className="list-disc space-y-0.5 pl-8 font-mono text-xs">
      {items.map((item, index) => (
        <li key={index} className="break-all">
          {item}
        </li>
      ))}
    </ul>
  );
}

function at(location: string | null): string {
  return location ? ` (at ${location})` : "";
}
