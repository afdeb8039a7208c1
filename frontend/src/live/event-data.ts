// Typed reads of an event's `data`, whose fields depend on the event's type.
import type { LiveEvent } from "../api/types";

type Data = LiveEvent["data"];

export function numberIn(data: Data, key: string): number | null {
  const value = data[key];
  return typeof value === "number" ? value : null;
}

export function textIn(data: Data, key: string): string | null {
  const value = data[key];
  return typeof value === "string" ? value : null;
}

/** A list of texts; null unless every item is one. */
export function textsIn(data: Data, key: string): string[] | null {
  const value = data[key];
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? value : null;
}
