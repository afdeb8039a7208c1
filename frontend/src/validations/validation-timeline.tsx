// The six steps of a validation, in order, each with its state in words; choosing one shows
// its log.
import type { CheckName, Step, StepName } from "../api/types";
import { between } from "../format/format";
import { StateBadge } from "../states/state-badge";
import { CHECK_NAMES, PIPELINE, STEP_NAMES, STEP_STATES, failedAt } from "../states/state-words";

type Props = {
  steps: Step[];
  selected: StepName | null;
  onSelect: (step: StepName) => void;
  /** The check that failed: named beside the failed step when that step runs several. */
  failedCheck?: CheckName | null;
};

export function ValidationTimeline({ steps, selected, onSelect, failedCheck = null }: Props) {
  const byName = new Map(steps.map((step) => [step.name, step]));
  return (
    <ol aria-label="Validation steps" className="space-y-1">
      {PIPELINE.map((name, index) => {
        const step = byName.get(name);
        const state = STEP_STATES[step?.status ?? "pending"];
        const took = between(step?.started_at ?? null, step?.finished_at ?? null);
        const check =
          step?.status === "failed" && failedCheck !== null && failedAt(name, failedCheck) !== STEP_NAMES[name]
            ? CHECK_NAMES[failedCheck]
            : null;
        return (
          <li key={name}>
            <button
              type="button"
              aria-pressed={selected === name}
              onClick={() => onSelect(name)}
              className="flex w-full min-w-0 flex-wrap items-center gap-x-2 gap-y-0.5 rounded-md px-2 py-1.5 text-left text-sm hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-blue-600 aria-pressed:bg-blue-50 aria-pressed:ring-1 aria-pressed:ring-blue-300"
            >
              <span aria-hidden="true" className="w-4 text-right font-mono text-xs text-slate-400">
                {index + 1}
              </span>
              <span className="font-medium">{STEP_NAMES[name]}</span>
              <StateBadge state={state} />
              {check && <span className="text-xs font-medium text-red-800">({check} failed)</span>}
              {took && <span className="text-xs text-slate-500">{took}</span>}
              {step?.summary && <span className="w-full pl-6 text-xs break-words text-slate-600">{step.summary}</span>}
            </button>
          </li>
        );
      })}
    </ol>
  );
}

/** The step worth showing first: the one running, else the one that failed, else the build,
 * test and deploy output, else the last that ran. */
export function stepToShow(steps: Step[], failed: StepName | null): StepName {
  const running = steps.find((step) => step.status === "running");
  if (running) return running.name;
  if (failed) return failed;
  const ran = PIPELINE.filter((name) =>
    steps.some((step) => step.name === name && step.status !== "pending" && step.status !== "skipped"),
  );
  return ran.includes("deploy") ? "deploy" : (ran.at(-1) ?? "snapshot");
}
