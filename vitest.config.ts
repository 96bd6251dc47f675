import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      { test: { name: "core", include: ["packages/core/test/**/*.test.ts"] } },
      { test: { name: "aws", include: ["packages/aws/test/**/*.test.ts"], testTimeout: 60_000 } },
      { test: { name: "bench", include: ["bench/test/**/*.test.ts"], testTimeout: 60_000 } },
      {
        test: { name: "infra", include: ["apps/infra/test/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000 },
      },
      // Cross-package tests against the emulator, through the real CLI binary.
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
