// One validation of a pull request in a project's list: which pull request, who opened it, the
// commit validated, and how it went. The title is the control that opens it in full.
import type { Validation } from "../api/types";
import { dateTime, shortSha } from "../format/format";
import { Link } from "../routing/link";
import { paths } from "../routing/routes";
import { StateBadge } from "../states/state-badge";
import { MERGED, MERGE_BLOCKED, VALIDATION_STATES } from "../states/state-words";

type Props = { validation: Validation; selected: boolean; onSelect: () => void };

export function PullRequestRow({ validation, selected, onSelect }: Props) {
  const pullRequest = validation.pull_request;
  const number = pullRequest?.number ?? validation.pr_number;
  const title = pullRequest?.title || (number === null ? "Pull request" : `Pull request #${number}`);
  return (
    <li
      className={`space-y-1 rounded-md border px-3 py-2 text-sm ${selected ? "border-blue-400 bg-blue-50" : "border-slate-200"}`}
    >
      <div className="flex min-w-0 items-baseline gap-2">
        {number !== null && <NumberLink number={number} url={pullRequest?.url ?? null} />}
        <button
          type="button"
          aria-pressed={selected}
          onClick={onSelect}
          className="min-w-0 text-left font-medium break-words hover:underline focus-visible:outline-2 focus-visible:outline-blue-600"
        >
          {title}
          <span className="sr-only">, attempt {validation.attempt}</span>
        </button>
      </div>
      <p className="flex flex-wrap items-center gap-x-2 gap-y-1 text-xs text-slate-600">
        <StateBadge state={VALIDATION_STATES[validation.status]} />
        <span>attempt {validation.attempt}</span>
        <Author validation={validation} />
        <span className="font-mono" title={validation.head_sha}>
          {shortSha(validation.head_sha)}
        </span>
        <time dateTime={validation.created_at}>{dateTime(validation.created_at)}</time>
      </p>
      <MergeState validation={validation} />
    </li>
  );
}

function NumberLink({ number, url }: { number: number; url: string | null }) {
  if (!url) return <span className="font-mono text-xs text-slate-600">#{number}</span>;
  return (
    <a
      href={url}
      target="_blank"
      rel="noreferrer"
      aria-label={`Pull request #${number}`}
      className="shrink-0 font-mono text-xs text-blue-800 underline"
    >
      #{number}
    </a>
  );
}

/** "by run 7" (a link to it) for one of our agent runs' pull requests, "by alice" for anyone
 * else's. */
function Author({ validation }: { validation: Validation }) {
  const runId = validation.agent_run_id;
  if (runId !== null) {
    return (
      <span>
        by{" "}
        <Link to={paths.run(validation.project_id, runId)} aria-label={`Agent run ${runId}`} className="text-blue-800 underline">
          run {runId}
        </Link>
      </span>
    );
  }
  const author = validation.pull_request?.author;
  return author ? <span>by {author}</span> : null;
}

function MergeState({ validation }: { validation: Validation }) {
  if (validation.merged) return <StateBadge state={MERGED} />;
  if (!validation.merge_blocked_reason) return null;
  return (
    <p className="flex flex-wrap items-center gap-2 text-xs">
      <StateBadge state={MERGE_BLOCKED} />
      <span className="break-words text-slate-700">{validation.merge_blocked_reason}</span>
    </p>
  );
}
