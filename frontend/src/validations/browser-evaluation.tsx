// A validation's browser evaluation: the web_eval step's summary, and the evidence it kept
// (screenshots, the findings, each page's text, Playwright traces of a failure), each artifact
// fetched with the token.
import { useQuery } from "@tanstack/react-query";
import { api } from "../api/client";
import { queryKeys } from "../api/query-keys";
import type { Validation } from "../api/types";
import { Problem, errorText } from "../controls/problem";
import { ArtifactLink } from "./artifact-link";
import { artifactLabel } from "./artifacts";
import { readFindings } from "./findings";
import { FindingsList } from "./findings-list";
import { PlaywrightTraces } from "./playwright-traces";
import { ScreenshotGallery } from "./screenshot-gallery";
import { VisualChanges } from "./visual-changes";

export function BrowserEvaluation({ validation }: { validation: Validation }) {
  const evaluation = validation.steps.find((step) => step.name === "web_eval");
  const ended = evaluation !== undefined && evaluation.status !== "pending" && evaluation.status !== "running";
  // The files a failed command pointed to are the deploy step's: shown with it, not here.
  const artifacts = validation.artifacts.filter((artifact) => artifact.kind !== "command_file");
  if (!ended && !artifacts.length) return null;
  const screenshots = artifacts.filter((artifact) => artifact.kind === "screenshot");
  const findings = artifacts.filter((artifact) => artifact.kind === "findings");
  const pageTexts = artifacts.filter((artifact) => artifact.kind === "page_text");
  const traces = artifacts.filter((artifact) => artifact.kind === "trace");
  return (
    <section aria-labelledby={`browser-evaluation-${validation.id}`} className="space-y-2">
      <h4 id={`browser-evaluation-${validation.id}`} className="text-sm font-semibold">
        Browser evaluation
      </h4>
      {evaluation && ended && (
        <p className="text-sm text-slate-700">
          {evaluation.summary ?? (evaluation.status === "skipped" ? "Not run: an earlier step failed." : "No findings were recorded.")}
        </p>
      )}
      {!artifacts.length && <p className="text-xs text-slate-500">No screenshots or findings were kept for this attempt.</p>}
      {screenshots.length > 0 && <ScreenshotGallery validationId={validation.id} screenshots={screenshots} />}
      {findings.map((artifact) => (
        <FindingsArtifact key={artifact.name} validationId={validation.id} name={artifact.name} />
      ))}
      {pageTexts.length > 0 && (
        <ul aria-label="Page texts" className="flex flex-wrap gap-x-4 gap-y-1 text-sm">
          {pageTexts.map((artifact) => (
            <li key={artifact.name}>
              <ArtifactLink validationId={validation.id} artifact={artifact} label={`Text of ${artifactLabel(artifact.name)}`} />
            </li>
          ))}
        </ul>
      )}
      {traces.length > 0 && <PlaywrightTraces validationId={validation.id} traces={traces} />}
    </section>
  );
}

function FindingsArtifact({ validationId, name }: { validationId: number; name: string }) {
  const json = useQuery({
    queryKey: queryKeys.validations.findings(validationId, name),
    queryFn: () => api.validations.artifactJson(validationId, name),
    staleTime: Number.POSITIVE_INFINITY,
  });
  if (json.isError) return <Problem>Could not load the findings: {errorText(json.error)}</Problem>;
  if (json.isPending) return <p className="text-sm text-slate-600">Loading the findings…</p>;
  const findings = readFindings(json.data);
  return (
    <details open className="rounded-md border border-slate-200 p-3">
      <summary className="cursor-pointer text-sm font-semibold">Findings</summary>
      {findings ? (
        <>
          <FindingsList findings={findings} />
          <VisualChanges validationId={validationId} changes={findings.visualChanges} />
        </>
      ) : (
        // Not the shape this dashboard knows (a newer evaluator?): shown as it is, still as text.
        <pre className="mt-2 max-h-80 overflow-auto whitespace-pre-wrap break-words font-mono text-xs">
          {JSON.stringify(json.data, null, 2)}
        </pre>
      )}
    </details>
  );
}
