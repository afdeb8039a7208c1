// Builds the dashboard into the Python package (served by codegenapp.api.ui) and runs Vitest.
import tailwindcss from "@tailwindcss/vite";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `npm run dev` talks to a back end started with `codegenapp serve` on this address.
const backend = process.env.CODEGENAPP_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: {
    outDir: "../src/codegenapp/ui/dist",
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
  },
});
