import { defineConfig } from "@trigger.dev/sdk";

// The project ref comes from the Trigger.dev dashboard (Cloud or self-hosted, see infra/trigger/README.md).
export default defineConfig({
  project: process.env.TRIGGER_PROJECT_REF ?? "proj_set_TRIGGER_PROJECT_REF",
  runtime: "node",
  dirs: ["./src/trigger"],
  maxDuration: 300,
  retries: {
    enabledInDev: true,
    default: {
      maxAttempts: 5,
      factor: 2,
      minTimeoutInMs: 1_000,
      maxTimeoutInMs: 60_000,
      randomize: true,
    },
  },
});
