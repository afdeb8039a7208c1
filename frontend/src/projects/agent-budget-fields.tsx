// What a project lets its agent spend, whichever agent it is: runs started a day, and minutes of
// work a run. Empty is no limit.
import { TextField } from "../controls/field";
import type { GroupProps } from "./form-parts";

export function AgentBudgetFields({ bind, error }: GroupProps) {
  return (
    <fieldset className="min-w-0 sm:col-span-2">
      <legend className="text-sm font-semibold text-slate-800">Budget</legend>
      <div className="mt-1 grid gap-3 sm:grid-cols-2">
        <TextField
          label="Runs per day"
          hint="Agent runs this project may start in any 24 hours; empty: no limit. One more is refused until the oldest is a day old."
          inputMode="numeric"
          {...bind("budget_runs_per_day")}
          error={error("agent.budgets.runs_per_day")}
        />
        <TextField
          label="Minutes per run"
          hint="Minutes the agent may work on one run, its turns added up; empty: no limit. Past them the run stops."
          inputMode="decimal"
          {...bind("budget_minutes_per_run")}
          error={error("agent.budgets.minutes_per_run")}
        />
      </div>
    </fieldset>
  );
}
