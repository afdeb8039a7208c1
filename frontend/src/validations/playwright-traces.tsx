// The Playwright traces a failed browser evaluation kept: each fetched (with the token) only when
// asked for, since one may weigh megabytes, then saved through a blob URL.
import { Download } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import type { Artifact } from "../api/types";
import { errorText } from "../controls/problem";
import { artifactLabel, useArtifactUrl } from "./artifacts";

/** "trace.zip" (the pages' context) → "Playwright trace", "scenario-0.zip" → "Playwright trace of
 * scenario 1". */
export function traceLabel(name: string): string {
  return name === "trace.zip" ? "Playwright trace" : `Playwright trace of ${artifactLabel(name)}`;
}

type Props = { validationId: number; traces: Artifact[] };

export function PlaywrightTraces({ validationId, traces }: Props) {
  return (
    <div className="space-y-1 text-sm">
      <ul aria-label="Playwright traces" className="flex flex-wrap gap-x-4 gap-y-1">
        {traces.map((trace) => (
          <li key={trace.name}>
            <TraceLink validationId={validationId} trace={trace} />
          </li>
        ))}
      </ul>
      <p className="text-xs text-slate-600">
        Open with <code className="font-mono">npx playwright show-trace {traces[0]?.name ?? "trace.zip"}</code>. A
        trace is not masked: what the page showed is inside it as it was.
      </p>
    </div>
  );
}

function TraceLink({ validationId, trace }: { validationId: number; trace: Artifact }) {
  const [wanted, setWanted] = useState(false);
  const { url, error } = useArtifactUrl(validationId, trace.name, wanted);
  const link = useRef<HTMLAnchorElement>(null);
  const saved = useRef(false);
  const label = traceLabel(trace.name);
  const size = `${Math.max(1, Math.round(trace.size / 1024)).toLocaleString()} KiB`;
  // Asked for and now loaded: saved once, as the click on the button meant. (Loaded earlier and
  // cached, it is only linked: coming back to the view saves nothing by itself.)
  useEffect(() => {
    if (url === null || !wanted || saved.current) return;
    saved.current = true;
    link.current?.click();
  }, [url, wanted]);

  if (error) return <span className="text-red-800">{label}: could not be loaded ({errorText(error)})</span>;
  if (url === null) {
    return (
      <button
        type="button"
        disabled={wanted}
        onClick={() => setWanted(true)}
        className="inline-flex items-center gap-1 text-blue-800 underline disabled:text-slate-600 disabled:no-underline"
      >
        <Download aria-hidden="true" className="size-4" />
        {wanted ? `${label} (loading…)` : `${label} (${size})`}
      </button>
    );
  }
  return (
    <a ref={link} href={url} download={trace.name} className="inline-flex items-center gap-1 text-blue-800 underline">
      <Download aria-hidden="true" className="size-4" />
      {label}
    </a>
  );
}
