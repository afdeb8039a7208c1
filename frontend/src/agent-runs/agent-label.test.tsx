import { agentName } from "./agent-label";

describe("agentName", () => {
  it("never lets the scripted stand-in pass for an AI", () => {
    expect(agentName("scripted", false)).toBe("Scripted agent (not AI)");
    expect(agentName("scripted", true)).toBe("Scripted agent (not AI)");
    expect(agentName("codegen", true)).toBe("codegen agent (AI)");
    expect(agentName(null, true)).toBe("Agent");
  });

  it("claims neither AI nor not AI before the run's agent is known", () => {
    expect(agentName("codegen", null)).toBe("codegen agent");
    expect(agentName("scripted", null)).toBe("Scripted agent (not AI)");
  });
});
