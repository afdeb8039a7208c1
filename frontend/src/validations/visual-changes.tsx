// Web evaluation's before/after: each large change on a page the goal does not mention, with
// the base branch's screenshot and this pull request's side by side; the other pages as a line
// of text. Reported, never a failure (steps/web_visual.py).
import type { VisualChange } from "./findings";
import { Thumbnail } from "./screenshot-gallery";

type Props = { validationId: number; changes: VisualChange[] };

export function VisualChanges({ validationId, changes }: Props) {
  if (!changes.length) return null;
  const unexpected = changes.filter((change) => change.large && !change.mentioned);
  const others = changes.filter((change) => !(change.large && !change.mentioned));
  const base = changes[0]?.base;
  return (
    <section aria-label="Changes from the base branch" className="space-y-2 text-sm">
      <h5 className="font-medium">Before/after{base ? `, against the base branch (${base})` : ""}</h5>
      {unexpected.map((change) => (
        <section key={change.path} aria-label={`Visual change on page ${change.path}`} className="space-y-1 rounded-md bg-amber-50 p-2">
          <p className="break-words text-amber-900">
            Page {change.path}: {percent(change.changed)} of its pixels differ from the base branch, and the goal does not
            mention it (reported, not failed).
          </p>
          <div className="flex flex-wrap gap-3">
            <figure className="space-y-1">
              <Thumbnail validationId={validationId} name={change.baseScreenshot} alt={`Page ${change.path} on the base branch`} />
              <figcaption className="text-xs text-slate-600">base branch</figcaption>
            </figure>
            <figure className="space-y-1">
              <Thumbnail validationId={validationId} name={change.screenshot} alt={`Page ${change.path} in this pull request`} />
              <figcaption className="text-xs text-slate-600">this pull request</figcaption>
            </figure>
          </div>
        </section>
      ))}
      {others.length > 0 && (
        <ul aria-label="Other pages against the base branch" className="list-disc space-y-0.5 pl-5 text-slate-700">
          {others.map((change) => (
            <li key={change.path} className="break-words">
              Page {change.path}: {percent(change.changed)} changed{change.large ? " (the goal mentions it)" : ""}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}
