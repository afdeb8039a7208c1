// A 422's problems, placed next to the fields they name (`loc` is FastAPI's path to the value).
import type { FieldProblem } from "../api/types";

export type PlacedErrors = { byField: Record<string, string>; unplaced: string[] };

/** Pydantic says "Value error, must be …"; people read "Must be …". */
export function readable(message: string): string {
  const text = message.replace(/^Value error, /, "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function placeErrors(problems: FieldProblem[], fields: readonly string[]): PlacedErrors {
  const byField: Record<string, string> = {};
  const unplaced: string[] = [];
  for (const problem of problems) {
    const location = problem.loc[0] === "body" ? problem.loc.slice(1) : problem.loc;
    const path = location.join(".");
    // The longest field that is the path or contains it: `required_checks.0` is the list's.
    const field = [...fields]
      .sort((a, b) => b.length - a.length)
      .find((candidate) => path === candidate || path.startsWith(`${candidate}.`));
    if (field === undefined) {
      unplaced.push(path ? `${path}: ${readable(problem.msg)}` : readable(problem.msg));
    } else {
      byField[field] = byField[field] ? `${byField[field]}; ${readable(problem.msg)}` : readable(problem.msg);
    }
  }
  return { byField, unplaced };
}
