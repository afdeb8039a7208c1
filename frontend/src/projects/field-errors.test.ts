import { placeErrors, readable } from "./field-errors";

const problem = (loc: Array<string | number>, msg: string) => ({ loc, msg, type: "value_error" });

describe("placeErrors", () => {
  it("puts each problem on the field whose path it names, or else says it above the form", () => {
    const placed = placeErrors(
      [
        problem(["body", "validation_settings", "required_checks", 0], "Input should be 'build'"),
        problem(["body", "repository"], "is not a git repository"),
        problem(["body", "deployment_settings", "surprise"], "Extra inputs are not permitted"),
      ],
      ["repository", "validation_settings.required_checks"],
    );
    expect(placed.byField).toEqual({
      "validation_settings.required_checks": "Input should be 'build'",
      repository: "Is not a git repository",
    });
    expect(placed.unplaced).toEqual(["deployment_settings.surprise: Extra inputs are not permitted"]);
  });

  it("puts a nested setting's problem on its own field, and a list item's on its list", () => {
    const placed = placeErrors(
      [
        problem(["body", "deployment_settings", "resources", "memory_mb"], "Input should be greater than or equal to 64"),
        problem(["body", "deployment_settings", "allowed_hosts", 0], "String should have at most 253 characters"),
        problem(["body", "deployment_settings", "resources", "swap_mb"], "Extra inputs are not permitted"),
      ],
      ["deployment_settings.port", "deployment_settings.resources.memory_mb", "deployment_settings.allowed_hosts"],
    );
    expect(placed.byField).toEqual({
      "deployment_settings.resources.memory_mb": "Input should be greater than or equal to 64",
      "deployment_settings.allowed_hosts": "String should have at most 253 characters",
    });
    expect(placed.unplaced).toEqual(["deployment_settings.resources.swap_mb: Extra inputs are not permitted"]);
  });

  it("reads a message as a sentence, with or without pydantic's 'Value error'", () => {
    expect(readable("must be an https:// URL (or empty)")).toBe("Must be an https:// URL (or empty)");
    expect(readable("Value error, must be an https:// URL (or empty)")).toBe("Must be an https:// URL (or empty)");
  });

  it("says above the form what names no field of it, such as a header", () => {
    const placed = placeErrors([problem(["header", "idempotency-key"], "String should have at most 255 characters")], ["name"]);
    expect(placed).toEqual({
      byField: {},
      unplaced: ["header.idempotency-key: String should have at most 255 characters"],
    });
  });
});
