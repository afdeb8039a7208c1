// The one WebSocket of the dashboard. It keeps the id of the last event seen, reconnects with
// backoff and `since=<last id>` (the server replays what was missed), and patches the query
// cache with every event. Components never open sockets; they read the cache.
//
// Where the stream starts matters: it is the newest event's id, read before any view reads its
// data (the API client holds every read until it is known). A change made after a view's read
// then always arrives as an event, and none falls between the two.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ApiError, api, configureClient } from "../api/client";
import { queryKeys } from "../api/query-keys";
import type { LiveEvent } from "../api/types";
import { REFUSED_TOKEN, useSession } from "../auth/session";
import { applyEvent } from "./apply-event";

export type LiveStatus = "connecting" | "online" | "offline";

const POLICY_VIOLATION = 1008; // the server's answer to a token it does not accept
const FIRST_RETRY_MS = 500;
const LONGEST_RETRY_MS = 10_000;

export function retryDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(LONGEST_RETRY_MS, FIRST_RETRY_MS * 2 ** attempt);
  return Math.round(base * (0.75 + random() * 0.5));
}

export function socketUrl(token: string, since: number, location: Location = window.location): string {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const query = new URLSearchParams({ token, since: String(since) });
  return `${scheme}://${location.host}/ws?${query.toString()}`;
}

/** The newest event id, or null when it could not be read (reads go ahead regardless). */
function readStartingPoint(): Promise<number | null> {
  const newest = api.events.latestId().then(
    (id) => id,
    () => null,
  );
  configureClient({ readsWaitFor: newest });
  return newest;
}

export function useEvents(): LiveStatus {
  const client = useQueryClient();
  const { token, signOut } = useSession();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  // Read once per signed-in session, while the first render is under way: before any view's
  // query can start.
  const [startingPoint] = useState(readStartingPoint);

  useEffect(() => {
    if (!token) return;
    let stopped = false;
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let lastId: number | null = null;

    const retry = () => {
      if (stopped) return;
      setStatus("offline");
      timer = setTimeout(() => void connect(), retryDelay(attempt));
      attempt += 1;
    };

    const newest = async (): Promise<number | null> => {
      if (lastId === null && attempt === 0) return startingPoint;
      try {
        return await api.events.latestId();
      } catch (error) {
        return error instanceof ApiError && error.status === 401 ? -1 : null;
      }
    };

    const connect = async () => {
      const latest = await newest();
      if (stopped || latest === -1) return; // A 401 has signed out already.
      if (latest === null) {
        retry(); // The server is away; views show what they can and catch up once it is back.
        return;
      }
      if (lastId === null || latest < lastId) {
        // Views may have read before the server answered (it was away), or the server's
        // history started over (a new database): read everything afresh from here.
        if (attempt > 0) void client.invalidateQueries();
        lastId = latest;
      }
      const reconnecting = attempt > 0;
      const ws = new WebSocket(socketUrl(token, lastId));
      socket = ws;
      ws.onopen = () => {
        attempt = 0;
        setStatus("online");
        // Log lines are live only: logs being read are loaded stored again.
        if (reconnecting) void client.invalidateQueries({ queryKey: queryKeys.validations.logs() });
      };
      ws.onmessage = (message: MessageEvent<string>) => {
        const event = JSON.parse(message.data) as LiveEvent;
        if (event.id !== null) {
          if (lastId !== null && event.id <= lastId) return;
          lastId = event.id;
        }
        applyEvent(client, event);
      };
      ws.onclose = (closing) => {
        if (socket === ws) socket = null;
        if (stopped) return;
        if (closing.code === POLICY_VIOLATION) signOut(REFUSED_TOKEN);
        else retry();
      };
    };

    void connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      const open = socket;
      if (open === null) return;
      // Closing a socket that is still connecting makes the browser log an error.
      if (open.readyState === WebSocket.CONNECTING) open.onopen = () => open.close();
      else open.close();
    };
  }, [client, token, signOut, startingPoint]);

  return status;
}
