import { agentName } from "./agent-label";

describe("agentName", () => {
  it("never lets the scripted stand-in pass for an AI", () => {
    expect(agentName("scripted", false)).toBe("Scripted agent (not AI)");
    expect(agentName("scripted", true)).toBe("Scripted agent (not AI)");
    expect(agentName("codegen", true)).toBe("codegen agent (AI)");
    expect(agentName(null, true)).toBe("Agent");
  });
});
