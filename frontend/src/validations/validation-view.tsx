// One validation: a pull request's attempt, or a baseline (the base branch, no pull request).
// Its steps and their logs, checks, browser findings, whose fault a failure is, the error
// context handed back to the agent, the pull request and the merge result.
import { GitBranch, GitMerge, GitPullRequest, RotateCcw } from "lucide-react";
import { useState } from "react";
import type { PullRequest, StepName, Validation } from "../api/types";
import { Button } from "../controls/button";
import { Problem, errorText } from "../controls/problem";
import { branchAt, shortSha } from "../format/format";
import { StateBadge } from "../states/state-badge";
import {
  CHECK_STATES,
  FINAL_VALIDATION_STATES,
  MERGED,
  MERGE_BLOCKED,
  VALIDATION_STATES,
  failedAt,
  isCheckStatus,
} from "../states/state-words";
import { BrowserEvaluation } from "./browser-evaluation";
import { CommandFiles } from "./command-files";
import { FaultNote } from "./fault-note";
import { useValidation } from "./queries";
import { useMergeValidation } from "./merge";
import { useRetryValidation } from "./retry";
import { StepLog } from "./step-log";
import { ValidationTimeline, stepToShow } from "./validation-timeline";

type Props = {
  listed: Validation;
  /** How many attempts a pull request gets, when the project is known. */
  attempts: number | null;
  pullRequest: PullRequest | null;
};

export function ValidationView({ listed, attempts, pullRequest }: Props) {
  const validation = useValidation(listed.id, listed).data ?? listed;
  const [chosenStep, setChosenStep] = useState<StepName | null>(null);
  const step = chosenStep ?? stepToShow(validation.steps, validation.failed_step);
  const stepRow = validation.steps.find((candidate) => candidate.name === step);
  const final = FINAL_VALIDATION_STATES.has(validation.status);
  const baseline = validation.kind === "baseline";
  const failedWhere = final && validation.status !== "passed" ? failedAt(validation.failed_step, validation.failed_check) : null;

  return (
    <article aria-label={baseline ? "Base branch validation" : `Validation attempt ${validation.attempt}`} className="space-y-4">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <Title validation={validation} attempts={attempts} />
        <StateBadge state={VALIDATION_STATES[validation.status]} />
        {validation.pr_number !== null && (
          <PullRequestLink
            number={validation.pr_number}
            url={validation.pull_request?.url ?? pullRequest?.url ?? null}
            author={validation.pull_request?.author ?? null}
          />
        )}
        {!baseline && (
          <span className="font-mono text-xs text-slate-600" title={validation.head_sha}>
            commit {shortSha(validation.head_sha)}
          </span>
        )}
        {final && !validation.merged && !pullRequest?.merged && <RetryButton validation={validation} />}
        {validation.merge_blocked_reason && !validation.merged && !pullRequest?.merged && (
          <MergeButton validation={validation} />
        )}
      </header>
      {failedWhere && (
        <p className="text-sm">
          Failed at <strong>{failedWhere}</strong>
        </p>
      )}
      {final && validation.reason && <p className="text-sm break-words text-slate-700">{validation.reason}</p>}
      {final && validation.status !== "passed" && <FaultNote validation={validation} />}
      <MergeResult validation={validation} />
      <div className="grid gap-4 lg:grid-cols-[minmax(14rem,2fr)_3fr]">
        <ValidationTimeline
          steps={validation.steps}
          selected={step}
          onSelect={setChosenStep}
          failedCheck={validation.failed_check}
        />
        <StepLog
          key={`${validation.id}-${step}`}
          validationId={validation.id}
          step={step}
          live={stepRow?.status === "running"}
          exists={stepRow !== undefined}
        />
      </div>
      <Checks validation={validation} />
      <CommandFiles validation={validation} />
      <BrowserEvaluation validation={validation} />
      {validation.error_context && (
        <details className="rounded-md border border-amber-300 bg-amber-50 p-3">
          <summary className="cursor-pointer text-sm font-semibold text-amber-900">{errorContextTitle(validation)}</summary>
          <pre className="mt-2 max-h-80 overflow-auto whitespace-pre-wrap break-words font-mono text-xs text-slate-800">
            {validation.error_context}
          </pre>
        </details>
      )}
    </article>
  );
}

/** "Attempt 2 of 3" for a pull request; "Base branch main @ abc1234" for a baseline. A retry
 * by hand after the agent's attempts ran out says so instead of "Attempt 5 of 4". */
function Title({ validation, attempts }: { validation: Validation; attempts: number | null }) {
  if (validation.kind === "baseline") {
    return (
      <h3 className="inline-flex min-w-0 items-center gap-1.5 text-base font-semibold break-all" title={validation.head_sha}>
        <GitBranch aria-hidden="true" className="size-4 shrink-0" />
        Base branch {branchAt(validation.base_branch, validation.head_sha)}
      </h3>
    );
  }
  return (
    <h3 className="text-base font-semibold">
      Attempt {validation.attempt}
      {attempts !== null && validation.attempt <= attempts && ` of ${attempts}`}
      {attempts !== null && validation.attempt > attempts && `, a retry by hand after the agent's ${attempts}`}
    </h3>
  );
}

/** Only a pull request's own failure goes back to the agent. */
function errorContextTitle(validation: Validation): string {
  if (validation.kind === "baseline") return "Error context";
  if (validation.fault === "setup") return "Error context (not sent to the agent: the base branch fails the same way)";
  return "Error context sent back to the agent";
}

/** "Pull request #12", and "by alice" when someone else opened it (`author` null: one of our
 * own agent runs did). */
function PullRequestLink({ number, url, author }: { number: number; url: string | null; author: string | null }) {
  const content = (
    <>
      <GitPullRequest aria-hidden="true" className="size-4" />
      Pull request #{number}
    </>
  );
  return (
    <span className="inline-flex flex-wrap items-center gap-1 text-sm">
      {url ? (
        <a href={url} className="inline-flex items-center gap-1 text-blue-800 underline" target="_blank" rel="noreferrer">
          {content}
        </a>
      ) : (
        <span className="inline-flex items-center gap-1">{content}</span>
      )}
      {author && <span className="text-slate-700">by {author}</span>}
    </span>
  );
}

function MergeResult({ validation }: { validation: Validation }) {
  if (validation.merged) {
    return (
      <p className="flex flex-wrap items-center gap-2 text-sm">
        <GitMerge aria-hidden="true" className="size-4 text-green-700" />
        <StateBadge state={MERGED} />
        <span>
          exactly the validated commit, as <span className="font-mono">{shortSha(validation.merge_sha)}</span>
        </span>
      </p>
    );
  }
  if (validation.merge_blocked_reason) {
    return (
      <p className="flex flex-wrap items-center gap-2 text-sm">
        <StateBadge state={MERGE_BLOCKED} />
        <span>{validation.merge_blocked_reason}</span>
      </p>
    );
  }
  return null;
}

function Checks({ validation }: { validation: Validation }) {
  const checks = Object.entries(validation.checks).flatMap(([name, status]) =>
    isCheckStatus(status) ? [{ name, status }] : [],
  );
  if (!checks.length) return null;
  return (
    <div>
      <h4 className="mb-1 text-sm font-semibold">Checks</h4>
      <ul aria-label="Checks" className="flex flex-wrap gap-2">
        {checks.map((check) => (
          <li key={check.name} className="flex items-center gap-1 rounded-md border border-slate-200 px-2 py-1 text-sm">
            <span className="font-mono text-xs">{check.name}</span>
            <StateBadge state={CHECK_STATES[check.status]} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Only a validation whose merge was refused or not allowed offers it; the server checks the
 * rest (passed, still the pull request's head, no run working on it) and says why not. */
function MergeButton({ validation }: { validation: Validation }) {
  const merge = useMergeValidation(validation);
  return (
    <span className="flex flex-wrap items-center gap-2">
      <Button onClick={() => merge.mutate()} disabled={merge.isPending}>
        <GitMerge aria-hidden="true" className="size-4" />
        Merge pull request
      </Button>
      {merge.isError && <Problem>{errorText(merge.error)}</Problem>}
    </span>
  );
}

function RetryButton({ validation }: { validation: Validation }) {
  const retry = useRetryValidation(validation);
  return (
    <span className="flex flex-wrap items-center gap-2">
      <Button onClick={() => retry.mutate()} disabled={retry.isPending}>
        <RotateCcw aria-hidden="true" className="size-4" />
        {validation.kind === "baseline" ? "Retry base branch" : "Retry validation"}
      </Button>
      {retry.isError && <Problem>{errorText(retry.error)}</Problem>}
    </span>
  );
}
