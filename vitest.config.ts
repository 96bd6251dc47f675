import { defineConfig } from "vitest/config";

// The SDK warns in every process that its 2027 releases need Node 22: a notice for maintainers (the
// README says so once), silenced with its documented switch, as the CLI's bin does. Every project's
// workers get it (`env`), and so do the processes they start.
const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };

export default defineConfig({
  test: {
    projects: [
      { test: { name: "core", include: ["packages/core/test/**/*.test.ts"], env } },
      { test: { name: "render", include: ["packages/render/test/**/*.test.ts"], env } },
      { test: { name: "contract", include: ["packages/contract/test/**/*.test.ts"], env } },
      { test: { name: "aws", include: ["packages/aws/test/**/*.test.ts"], testTimeout: 60_000, env } },
      { test: { name: "bench", include: ["bench/test/**/*.test.ts"], testTimeout: 60_000, env } },
      // The CLI's wiring in-process through main(argv, io), no emulator: milliseconds each.
      { test: { name: "cli", include: ["apps/cli/test/**/*.test.ts"], env } },
      // The handlers' own logic (event shapes, messages), in-process without AWS.
      { test: { name: "functions", include: ["apps/functions/test/**/*.test.ts"], env } },
      {
        test: {
          name: "infra",
          include: ["apps/infra/test/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          env,
        },
      },
      // Cross-package tests against the emulator, through the real CLI binary.
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          env,
        },
      },
    ],
  },
});
