// How times, durations, rates and commits read on screen.
// One formatter each: building one per call (as toLocaleTimeString does) costs a long feed
// tens of milliseconds.
const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });

export function clockTime(iso: string): string {
  return clock.format(new Date(iso));
}

export function dateTime(iso: string): string {
  return day.format(new Date(iso));
}

export function duration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds % 60)} s`;
}

export function between(start: string | null, end: string | null): string | null {
  if (!start || !end) return null;
  return duration((new Date(end).getTime() - new Date(start).getTime()) / 1000);
}

export function percent(rate: number): string {
  return `${Math.round(rate * 100)}%`;
}

export function shortSha(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 7) : "";
}

/** A commit of a branch: "main @ abc1234". */
export function branchAt(branch: string | null, sha: string): string {
  return `${branch ?? "(unknown branch)"} @ ${shortSha(sha)}`;
}
