// A project's pull requests as their validations found them, whoever opened them (one of our
// agent runs, a person, a bot): newest first, a page at a time; the one chosen opens in full.
import { useState } from "react";
import type { Project, Validation } from "../api/types";
import { Button } from "../controls/button";
import { Panel } from "../controls/panel";
import { Problem, errorText } from "../controls/problem";
import { PullRequestRow } from "./pull-request-row";
import { PULL_REQUESTS_PAGE, useProjectPullRequests } from "./queries";
import { ValidationView } from "./validation-view";

type Props = { projectId: number; project: Project | undefined };

export function ProjectPullRequests({ projectId, project }: Props) {
  const [pages, setPages] = useState(1);
  const [chosen, setChosen] = useState<Validation | null>(null);
  const list = useProjectPullRequests(projectId, pages);
  // The listed copy is the fresher one; a validation paged out of the list stays open.
  const shown = chosen && (list.items.find((validation) => validation.id === chosen.id) ?? chosen);
  const more = list.total !== null && pages * PULL_REQUESTS_PAGE < list.total;
  // An agent run's pull request gets the project's attempts; anyone else's is retried by hand.
  const attempts = project && shown && shown.agent_run_id !== null ? project.validation_settings.max_retries + 1 : null;
  return (
    <Panel title="Pull requests">
      {list.error && <Problem>Could not load the pull requests: {errorText(list.error)}</Problem>}
      {list.total === 0 && <p className="text-sm text-slate-500">No pull request validated yet.</p>}
      {list.isPending && !list.items.length && !list.error && <p className="text-sm text-slate-500">Loading…</p>}
      {list.items.length > 0 && (
        <ul aria-label="Pull request validations, newest first" className="space-y-2">
          {list.items.map((validation) => (
            <PullRequestRow
              key={validation.id}
              validation={validation}
              selected={validation.id === shown?.id}
              onSelect={() => setChosen(validation.id === shown?.id ? null : validation)}
            />
          ))}
        </ul>
      )}
      {more && (
        <Button className="mt-3" onClick={() => setPages(pages + 1)} disabled={list.isPending}>
          Show more
        </Button>
      )}
      {shown && (
        <div className="mt-4 border-t border-slate-200 pt-4">
          <ValidationView key={shown.id} listed={shown} attempts={attempts} pullRequest={null} />
        </div>
      )}
    </Panel>
  );
}
