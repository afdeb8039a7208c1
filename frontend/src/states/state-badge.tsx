// A state as a word with an icon; the colour is a second cue, never the only one.
import { CircleAlert, CircleCheck, CircleDashed, CircleDot, Hand, LoaderCircle } from "lucide-react";
import type { StateWord, Tone } from "./state-words";

const tones: Record<Tone, string> = {
  neutral: "bg-slate-100 text-slate-700 ring-slate-300",
  active: "bg-blue-50 text-blue-800 ring-blue-300",
  waiting: "bg-amber-50 text-amber-900 ring-amber-400",
  good: "bg-green-50 text-green-800 ring-green-300",
  bad: "bg-red-50 text-red-800 ring-red-300",
};

const icons: Record<Tone, typeof CircleDot> = {
  neutral: CircleDashed,
  active: LoaderCircle,
  waiting: Hand,
  good: CircleCheck,
  bad: CircleAlert,
};

export function StateBadge({ state, className = "" }: { state: StateWord; className?: string }) {
  const Icon = icons[state.tone];
  return (
    <span
      className={`inline-flex shrink-0 items-center gap-1 rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset ${tones[state.tone]} ${className}`}
    >
      <Icon aria-hidden="true" className={`size-3.5 ${state.tone === "active" ? "motion-safe:animate-spin" : ""}`} />
      {state.word}
    </span>
  );
}
