// One step's log: loaded stored, then growing live; ANSI colours rendered, the view follows
// the tail unless the person scrolls up, and a button copies it as plain text.
import { AnsiUp } from "ansi_up";
import { ArrowDownToLine, Copy } from "lucide-react";
import { useLayoutEffect, useMemo, useRef, useState } from "react";
import type { StepName } from "../api/types";
import { Button } from "../controls/button";
import { Problem, errorText } from "../controls/problem";
import { STEP_NAMES } from "../states/state-words";
import { useStepLog } from "./queries";

const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export function plainText(log: string): string {
  return log.replace(ANSI, "");
}

/** The log as HTML, its text escaped. The server's Content-Security-Policy (`style-src 'self'`)
 * refuses `style` attributes in HTML, so ansi_up's colours travel as `data-ansi-style` and
 * `applyAnsiStyles` sets them through the DOM's style properties, which the policy allows. */
export function logHtml(log: string): string {
  const converter = new AnsiUp();
  converter.url_allowlist = {}; // A log is the project's output: it makes no links.
  // ansi_up escapes the log's own text, so every `<span style="` in its output is its own.
  return converter.ansi_to_html(log).replaceAll('<span style="', '<span data-ansi-style="');
}

/** Gives each span of `logHtml` its colours: declarations ansi_up wrote ("color:rgb(0,187,0)",
 * "font-weight:bold"), never text from the log. */
export function applyAnsiStyles(root: HTMLElement): void {
  for (const span of root.querySelectorAll<HTMLElement>("span[data-ansi-style]")) {
    for (const declaration of (span.dataset.ansiStyle ?? "").split(";")) {
      const cut = declaration.indexOf(":");
      if (cut > 0) span.style.setProperty(declaration.slice(0, cut).trim(), declaration.slice(cut + 1).trim());
    }
  }
}

type Props = { validationId: number; step: StepName; live: boolean; exists: boolean };

export function StepLog({ validationId, step, live, exists }: Props) {
  const log = useStepLog(validationId, step, exists);
  const text = log.data ?? "";
  const html = useMemo(() => logHtml(text), [text]);
  const view = useRef<HTMLPreElement>(null);
  const [following, setFollowing] = useState(true);
  const [copied, setCopied] = useState<string | null>(null);

  useLayoutEffect(() => {
    if (view.current) applyAnsiStyles(view.current);
  }, [html]);

  useLayoutEffect(() => {
    const pre = view.current;
    if (pre && following) pre.scrollTop = pre.scrollHeight;
  }, [html, following]);

  const onScroll = () => {
    const pre = view.current;
    if (pre) setFollowing(pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24);
  };

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(plainText(text));
      setCopied("Copied the log.");
    } catch {
      setCopied("This browser did not allow copying; select the text instead.");
    }
  };

  const name = STEP_NAMES[step];
  return (
    <section aria-label={`Log of ${name}`} className="min-w-0">
      <div className="mb-1.5 flex flex-wrap items-center justify-between gap-2">
        <h4 className="text-sm font-semibold">
          Log: {name}
          {live && <span className="ml-2 rounded bg-blue-100 px-1.5 py-0.5 text-xs font-medium text-blue-800">Live</span>}
        </h4>
        <div className="flex items-center gap-2">
          {!following && (
            <Button onClick={() => setFollowing(true)}>
              <ArrowDownToLine aria-hidden="true" className="size-4" />
              Follow the end
            </Button>
          )}
          <Button onClick={() => void copy()} disabled={!text}>
            <Copy aria-hidden="true" className="size-4" />
            Copy log
          </Button>
        </div>
      </div>
      {log.isError && <Problem>Could not load the log: {errorText(log.error)}</Problem>}
      <pre
        ref={view}
        onScroll={onScroll}
        tabIndex={0}
        role="log"
        // A log can grow by many lines a second: it is read, not announced.
        aria-live="off"
        aria-label={`${name} output`}
        className="max-h-96 min-h-24 overflow-auto whitespace-pre-wrap break-words rounded-md bg-slate-950 p-3 font-mono text-xs leading-relaxed text-slate-100"
        dangerouslySetInnerHTML={{
          __html: exists ? html || (log.isPending ? "Loading…" : "(no output)") : "(not started)",
        }}
      />
      <p role="status" className="mt-1 text-xs text-slate-600">
        {copied}
      </p>
    </section>
  );
}
