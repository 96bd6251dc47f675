import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The tests that spawn `orgmfa` run the bundle: build it from the sources under test, never a stale one. */
export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL("../scripts/build-cli.mjs", import.meta.url))], {
    stdio: "inherit",
  });
}
