import { queryKeys } from "../api/query-keys";
import { fakeApi } from "../testing/fake-api";
import { makeTestClient } from "../testing/render";
import { appendLiveLog, joinLive, loadStepLog } from "./step-log-buffer";

describe("joinLive", () => {
  it("adds only the chunks the stored log does not already end with", () => {
    expect(joinLive("a\nb\n", ["b\n", "c\n"])).toBe("a\nb\nc\n");
    expect(joinLive("a\n", ["b\n", "c\n"])).toBe("a\nb\nc\n");
    expect(joinLive("a\nb\nc\n", ["b\n", "c\n"])).toBe("a\nb\nc\n");
    expect(joinLive("", [])).toBe("");
  });
});

describe("loadStepLog", () => {
  it("keeps what streams in while the stored log is on its way", async () => {
    const client = makeTestClient();
    let answer: (text: string) => void = () => undefined;
    fakeApi();
    vi.mocked(fetch).mockImplementationOnce(
      () => new Promise<Response>((resolve) => (answer = (text) => resolve(new Response(text)))),
    );
    const loading = loadStepLog(3, "deploy");
    appendLiveLog(client, 3, "deploy", "second\n");
    await vi.waitFor(() => expect(fetch).toHaveBeenCalled());
    appendLiveLog(client, 3, "deploy", "third\n");
    answer("first\nsecond\n");
    expect(await loading).toBe("first\nsecond\nthird\n");
    expect(client.getQueryData(queryKeys.validations.log(3, "deploy"))).toBeUndefined();
  });
});
