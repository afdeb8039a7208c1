import { act, screen, waitFor } from "@testing-library/react";
import { queryKeys } from "../api/query-keys";
import type { Event, LiveEvent } from "../api/types";
import { useSession } from "../auth/session";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { event } from "../testing/samples";
import { ConnectionBanner } from "./connection-banner";
import { retryDelay, useEvents } from "./use-events";

class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 3;
  static made: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  onopen: (() => void) | null = null;
  onmessage: ((message: { data: string }) => void) | null = null;
  onclose: ((closing: { code: number }) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.made.push(this);
  }
  get since(): string | null {
    return new URL(this.url).searchParams.get("since");
  }
  open() {
    this.readyState = FakeSocket.OPEN;
    act(() => this.onopen?.());
  }
  deliver(message: LiveEvent) {
    act(() => this.onmessage?.({ data: JSON.stringify(message) }));
  }
  drop(code = 1006) {
    this.readyState = FakeSocket.CLOSED;
    act(() => this.onclose?.({ code }));
  }
  close() {
    this.readyState = FakeSocket.CLOSED;
  }
}

function Probe() {
  const status = useEvents();
  const { token } = useSession();
  return (
    <>
      <ConnectionBanner status={status} />
      <p>{token ? "signed in" : "signed out"}</p>
    </>
  );
}

beforeEach(() => {
  FakeSocket.made = [];
  vi.stubGlobal("WebSocket", FakeSocket);
});

const newest = (id: number) => ({ body: id ? [event("project_created", { name: "x" }, { id })] : [] });

describe("useEvents", () => {
  it("starts from the newest event, then patches the cache with what arrives", async () => {
    fakeApi({ "GET /api/v1/events": newest(41) });
    const { client } = renderWithCache(<Probe />);
    client.setQueryData<Event[]>(queryKeys.events.feed(null), []);
    await waitFor(() => expect(FakeSocket.made).toHaveLength(1));
    const socket = FakeSocket.made[0]!;
    expect(socket.since).toBe("41");
    expect(new URL(socket.url).searchParams.get("token")).toBe("test-token");

    socket.open();
    socket.deliver(event("project_created", { name: "shop" }, { id: 42 }));
    socket.deliver(event("project_created", { name: "shop" }, { id: 42 }));

    expect(client.getQueryData<Event[]>(queryKeys.events.feed(null))?.map((e) => e.id)).toEqual([42]);
  });

  it("says it is offline, then reconnects by itself from the last event it saw", async () => {
    const server = fakeApi({ "GET /api/v1/events": newest(41) });
    renderWithCache(<Probe />);
    await waitFor(() => expect(FakeSocket.made).toHaveLength(1));
    const first = FakeSocket.made[0]!;
    first.open();
    first.deliver(event("agent_run_started", { agent_run_id: 1, status: "pending", goal: "g" }, { id: 45 }));

    server.on("GET /api/v1/events", newest(48)); // more happened while the socket was down
    first.drop();
    expect(screen.getByRole("status")).toHaveTextContent("Offline");

    await waitFor(() => expect(FakeSocket.made).toHaveLength(2), { timeout: 3000 });
    const second = FakeSocket.made[1]!;
    expect(second.since).toBe("45");
    second.open();
    expect(screen.getByRole("status")).not.toHaveTextContent("Offline");
  });

  it("starts afresh when the server's history started over", async () => {
    const server = fakeApi({ "GET /api/v1/events": newest(41) });
    const { client } = renderWithCache(<Probe />);
    await waitFor(() => expect(FakeSocket.made).toHaveLength(1));
    FakeSocket.made[0]!.open();
    client.setQueryData(queryKeys.projects.list(), { items: [], total: 0 });

    server.on("GET /api/v1/events", newest(3)); // a new database behind the same address
    FakeSocket.made[0]!.drop();

    await waitFor(() => expect(FakeSocket.made).toHaveLength(2), { timeout: 3000 });
    expect(FakeSocket.made[1]!.since).toBe("3");
    expect(client.getQueryState(queryKeys.projects.list())?.isInvalidated).toBe(true);
  });

  it("signs out when the server refuses the token on the socket", async () => {
    fakeApi({ "GET /api/v1/events": newest(0) });
    renderWithCache(<Probe />);
    await waitFor(() => expect(FakeSocket.made).toHaveLength(1));
    FakeSocket.made[0]!.drop(1008);
    expect(await screen.findByText("signed out")).toBeInTheDocument();
    expect(window.localStorage.getItem("codegenapp.token")).toBeNull();
  });

  it("waits longer after each failure, up to ten seconds", () => {
    const middle = () => 0.5;
    expect([0, 1, 2, 3, 10].map((attempt) => retryDelay(attempt, middle))).toEqual([500, 1000, 2000, 4000, 10000]);
  });
});
