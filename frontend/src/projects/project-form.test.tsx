import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { fakeApi } from "../testing/fake-api";
import { renderWithCache } from "../testing/render";
import { RECIPE, fieldError, invalid, project } from "../testing/samples";
import { ProjectForm } from "./project-form";

async function fillRequired(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText("Name"), "shop");
  await user.type(screen.getByLabelText("Repository"), "/srv/git/shop");
  // The recipe is YAML text, many lines of it (pasted: typing would read its brackets as keys).
  await user.click(screen.getByLabelText("Recipe"));
  await user.paste(RECIPE);
}

describe("ProjectForm", () => {
  it("shows the API's refusal next to the field it names", async () => {
    const server = fakeApi({
      "POST /api/v1/projects": {
        status: 422,
        body: invalid(
          fieldError(["body", "validation_settings", "max_retries"], "Input should be less than or equal to 20", "less_than_equal"),
          fieldError(
            ["body", "deployment_settings", "health_check_url"],
            "must be a path on the deployed app, starting with '/' (or empty)",
          ),
        ),
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await fillRequired(user);
    await user.clear(screen.getByLabelText("Max retries"));
    await user.type(screen.getByLabelText("Max retries"), "50");
    await user.type(screen.getByLabelText("Health check URL"), "health");
    await user.click(screen.getByRole("button", { name: "Create project" }));

    const retries = screen.getByLabelText("Max retries");
    await waitFor(() => expect(retries).toHaveAttribute("aria-invalid", "true"));
    expect(retries).toHaveAccessibleDescription("Input should be less than or equal to 20");
    expect(screen.getByLabelText("Health check URL")).toHaveAccessibleDescription(
      expect.stringContaining("Must be a path on the deployed app"),
    );
    expect(screen.getByRole("alert")).toHaveTextContent("2 values need a change");
    expect(screen.getByLabelText("Name")).not.toHaveAttribute("aria-invalid");
    expect(server.calls[0]?.body).toMatchObject({
      name: "shop",
      agent: { provider: "scripted", recipe: RECIPE },
      validation_settings: { max_retries: 50 },
      deployment_settings: { health_check_url: "health" },
    });
  });

  it("takes the recipe as YAML text in a text area, and shows what the API finds wrong with it", async () => {
    const server = fakeApi({
      "POST /api/v1/projects": {
        status: 422,
        body: invalid(fieldError(["body", "agent", "recipe"], "turn 2 has none of reply, plan, files or fail")),
      },
    });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    const recipe = screen.getByLabelText("Recipe");
    expect(recipe.tagName).toBe("TEXTAREA");
    expect(recipe).toHaveAccessibleDescription(expect.stringContaining("as YAML (it replays them; it is not an AI)"));
    await fillRequired(user);
    expect(recipe).toHaveValue(RECIPE);
    await user.click(screen.getByRole("button", { name: "Create project" }));
    await waitFor(() => expect(recipe).toHaveAttribute("aria-invalid", "true"));
    expect(recipe).toHaveAccessibleDescription(expect.stringContaining("Turn 2 has none of reply, plan, files or fail"));
    expect(recipe).toHaveFocus();
    expect(server.calls[0]?.body).toMatchObject({ agent: { provider: "scripted", recipe: RECIPE } });
  });

  it("says what is wrong with a number before asking the API", async () => {
    const server = fakeApi();
    const user = userEvent.setup();
    renderWithCache(<ProjectForm />);
    await fillRequired(user);
    await user.clear(screen.getByLabelText("Port"));
    await user.type(screen.getByLabelText("Port"), "eighty");
    await user.click(screen.getByRole("button", { name: "Create project" }));
    expect(screen.getByLabelText("Port")).toHaveAccessibleDescription("Enter a whole number.");
    expect(server.calls).toEqual([]);
  });

  it("edits a project's settings and sends them whole", async () => {
    const server = fakeApi({ "PUT /api/v1/projects/1": { body: project({ name: "shop" }) } });
    const user = userEvent.setup();
    renderWithCache(<ProjectForm project={project()} />);
    expect(screen.getByLabelText("Deploy command")).toHaveValue("python3 app.py");
    expect(screen.getByLabelText("Recipe")).toHaveValue(RECIPE);
    expect(screen.getByRole("checkbox", { name: "Health check passes" })).toBeChecked();
    await user.click(screen.getByRole("checkbox", { name: "Tests" }));
    await user.type(screen.getByLabelText("Environment variables"), "APP_MODE=demo");
    await user.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(server.calls).toHaveLength(1));
    expect(server.calls[0]?.body).toMatchObject({
      validation_settings: { required_checks: ["health", "test"] },
      deployment_settings: { environment_variables: { APP_MODE: "demo" }, port: 8080 },
    });
    await waitFor(() => expect(window.location.pathname).toBe("/projects/1"));
  });
});
