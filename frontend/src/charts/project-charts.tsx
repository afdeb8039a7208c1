// A project's trends: pass rate and duration of its validations, attempts per merged PR.
import type { ProjectStats, ValidationStatus } from "../api/types";
import { duration, percent } from "../format/format";
import { Bars, ChartFrame, HEIGHT, PAD, PLOT_H, PLOT_W } from "./chart-frame";

const fills: Record<ValidationStatus, string> = {
  passed: "fill-green-600",
  failed: "fill-red-600",
  error: "fill-red-900",
  cancelled: "fill-slate-400",
  queued: "fill-slate-300",
  running: "fill-blue-500",
};

/** The pass rate after each validation: passed / (passed + failed) so far. */
export function runningPassRate(statuses: ValidationStatus[]): Array<number | null> {
  let passed = 0;
  let decided = 0;
  return statuses.map((status) => {
    if (status === "passed") passed += 1;
    if (status === "passed" || status === "failed") decided += 1;
    return decided ? passed / decided : null;
  });
}

function PassRateChart({ stats }: { stats: ProjectStats }) {
  const rates = runningPassRate(stats.history.map((point) => point.status));
  const known = rates.flatMap((rate, index) => (rate === null ? [] : [{ rate, index }]));
  const step = PLOT_W / Math.max(rates.length - 1, 1);
  const x = (index: number) => PAD.left + (rates.length === 1 ? PLOT_W / 2 : step * index);
  const y = (rate: number) => PAD.top + PLOT_H - rate * PLOT_H;
  const latest = known.at(-1)?.rate;
  const summary =
    latest === undefined
      ? "No passed or failed validations yet."
      : `Pass rate after each of ${rates.length} validations, oldest first: ${known.map((k) => percent(k.rate)).join(", ")}. Now ${percent(latest)}.`;
  return (
    <ChartFrame caption="Validation pass rate over time" summary={summary} yLabels={["0%", "100%"]} empty={!known.length}>
      <polyline
        fill="none"
        strokeWidth={2}
        className="stroke-blue-600"
        points={known.map((k) => `${x(k.index)},${y(k.rate)}`).join(" ")}
      />
      {known.map((k) => (
        <circle key={k.index} cx={x(k.index)} cy={y(k.rate)} r={3.5} className={fills[stats.history[k.index]?.status ?? "queued"]} />
      ))}
      <text x={PAD.left} y={HEIGHT - 5} className="fill-slate-500 text-[9px]">
        oldest
      </text>
      <text x={PAD.left + PLOT_W} y={HEIGHT - 5} textAnchor="end" className="fill-slate-500 text-[9px]">
        newest
      </text>
    </ChartFrame>
  );
}

function DurationChart({ stats }: { stats: ProjectStats }) {
  const points = stats.history.filter((point) => point.duration_s !== null);
  const seconds = points.map((point) => point.duration_s ?? 0);
  const longest = Math.max(...seconds, 0);
  const summary = points.length
    ? `Duration of the last ${points.length} validations, oldest first: ${seconds.map(duration).join(", ")}.`
    : "No finished validations yet.";
  return (
    <ChartFrame caption="Validation duration over time" summary={summary} yLabels={["0", duration(longest)]} empty={!points.length}>
      <Bars values={seconds} colors={points.map((point) => fills[point.status])} />
    </ChartFrame>
  );
}

function AttemptsChart({ stats }: { stats: ProjectStats }) {
  const merged = stats.attempts_per_merged_pr;
  const attempts = merged.map((entry) => entry.attempts);
  const summary = merged.length
    ? `Validation attempts per merged pull request: ${merged.map((m) => `#${m.pr_number}: ${m.attempts}`).join(", ")}.`
    : "No merged pull requests yet.";
  return (
    <ChartFrame
      caption="Attempts per merged pull request"
      summary={summary}
      yLabels={["0", String(Math.max(...attempts, 0))]}
      empty={!merged.length}
    >
      <Bars values={attempts} colors={merged.map(() => "fill-indigo-500")} labels={merged.map((m) => `#${m.pr_number}`)} />
    </ChartFrame>
  );
}

export function ProjectCharts({ stats }: { stats: ProjectStats }) {
  return (
    <div className="grid gap-4">
      <PassRateChart stats={stats} />
      <DurationChart stats={stats} />
      <AttemptsChart stats={stats} />
    </div>
  );
}
