// Builds the dashboard into the Python package (served by codegenapp.api.ui) and runs Vitest.
import { copyFileSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";

const OUT_DIR = "../src/codegenapp/ui/dist";

/** Swagger UI's files, shipped with the build for the server's optional /docs page (it must
 * load nothing from a CDN). Not part of the dashboard's own bundle. */
function swaggerUi(): Plugin {
  return {
    name: "codegenapp-swagger-ui",
    apply: "build",
    closeBundle() {
      const target = resolve(OUT_DIR, "docs");
      mkdirSync(target, { recursive: true });
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"]) {
        copyFileSync(resolve("node_modules/swagger-ui-dist", file), resolve(target, file));
      }
    },
  };
}

// `npm run dev` talks to a back end started with `codegenapp serve` on this address.
const backend = process.env.CODEGENAPP_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), tailwindcss(), swaggerUi()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    // The benchmark reads it to tell the initial JavaScript from chunks loaded later.
    manifest: true,
    target: "es2022",
  },
  server: {
    proxy: {
      "/api": backend,
      "/ws": { target: backend.replace(/^http/, "ws"), ws: true },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test-setup.ts"],
    css: false,
    restoreMocks: true,
    // Form tests type into many fields; on a loaded 2-core machine 5 s (the default) is not
    // enough, and a timed-out test leaks its typing into the next.
    testTimeout: 20_000,
  },
});
