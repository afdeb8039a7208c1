// A 422's `errors`, placed next to the fields they name (`loc` is the API's path to the value:
// ["body", "deployment_settings", "port"], or ["header", "idempotency-key"]).
import type { FieldProblem } from "../api/types";

export type PlacedErrors = { byField: Record<string, string>; unplaced: string[] };

/** "must be …" reads "Must be …". The server strips pydantic's "Value error, " now; one that
 * does not is read the same. */
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
