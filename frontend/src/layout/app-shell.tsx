// The signed-in dashboard: header with the project dropdown, the live connection, the page.
import { LogOut } from "lucide-react";
import { useSession } from "../auth/session";
import { Button } from "../controls/button";
import { ConnectionBanner, LiveIndicator } from "../live/connection-banner";
import { useEvents } from "../live/use-events";
import { EditProjectPage, NewProjectPage } from "../projects/project-form-page";
import { OverviewPage } from "../projects/overview-page";
import { ProjectPage } from "../projects/project-page";
import { Link } from "../routing/link";
import { paths, useRoute, type Route } from "../routing/routes";
import { ProjectPicker } from "./project-picker";

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "overview":
      return <OverviewPage />;
    case "new-project":
      return <NewProjectPage />;
    case "edit-project":
      return <EditProjectPage projectId={route.projectId} />;
    case "project":
      return <ProjectPage projectId={route.projectId} runId={route.runId} />;
  }
}

export function AppShell() {
  const { signOut } = useSession();
  const status = useEvents();
  const route = useRoute();
  const projectId = route.page === "project" || route.page === "edit-project" ? route.projectId : null;
  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-10 focus:rounded focus:bg-white focus:px-3 focus:py-2">
        Skip to the page
      </a>
      <header className="bg-slate-900 text-white">
        <div className="mx-auto flex max-w-screen-2xl flex-wrap items-center gap-x-4 gap-y-2 px-4 py-2.5">
          <Link to={paths.overview()} className="text-lg font-semibold tracking-tight">
            CodegenApp
          </Link>
          <ProjectPicker projectId={projectId} />
          <div className="ml-auto flex items-center gap-3">
            <LiveIndicator status={status} />
            <Button look="onDark" onClick={() => signOut()}>
              <LogOut aria-hidden="true" className="size-4" />
              Sign out
            </Button>
          </div>
        </div>
      </header>
      <ConnectionBanner status={status} />
      <main id="main" className="mx-auto max-w-screen-2xl px-4 py-5">
        <Page route={route} />
      </main>
    </div>
  );
}

