// A prompt or an answer of the agent's, as plain preformatted text: it comes from the agent and
// from logs, so it is never read as HTML or markdown. A long one (a fix request carries a failed
// validation's error context) shows its first lines until a person asks for the rest.
import { ChevronDown, ChevronUp } from "lucide-react";
import { useId, useState } from "react";
import { Button } from "../controls/button";

const PREVIEW_LINES = 6;
// Six lines of a minified log can fill a screen: the preview stops at this many characters too.
const PREVIEW_CHARS = 600;

function preview(text: string): string | null {
  const lines = text.split("\n");
  if (lines.length <= PREVIEW_LINES && text.length <= PREVIEW_CHARS) return null;
  return lines.slice(0, PREVIEW_LINES).join("\n").slice(0, PREVIEW_CHARS);
}

type Props = {
  text: string;
  /** The block's accessible name: whose text it is. */
  label: string;
  /** Logs and error context read better in a fixed-width font; prose does not. */
  mono?: boolean;
};

export function CollapsibleText({ text, label, mono = false }: Props) {
  const [expanded, setExpanded] = useState(false);
  const id = useId();
  const start = preview(text);
  const shown = start === null || expanded ? text : `${start}…`;
  return (
    <div className="space-y-1">
      <pre
        id={id}
        aria-label={label}
        tabIndex={0}
        className={`max-h-96 overflow-auto rounded-md bg-slate-50 p-2 break-words whitespace-pre-wrap ${
          mono ? "font-mono text-xs leading-5" : "font-sans text-sm"
        }`}
      >
        {shown}
      </pre>
      {start !== null && (
        <Button aria-expanded={expanded} aria-controls={id} onClick={() => setExpanded(!expanded)}>
          {expanded ? <ChevronUp aria-hidden="true" className="size-4" /> : <ChevronDown aria-hidden="true" className="size-4" />}
          {expanded ? "Show less" : "Show all"}
        </Button>
      )}
    </div>
  );
}
