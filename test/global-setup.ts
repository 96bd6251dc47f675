import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The tests that spawn `orgmfa` run the bundle: build it from the sources under test, never a stale one. */
export default function setup(): void {
  // As the binary does: the SDK's Node-version notice is for maintainers, not test logs (workers inherit it).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  execFileSync(process.execPath, [fileURLToPath(new URL("../scripts/build-cli.mjs", import.meta.url))], {
    stdio: "inherit",
  });
}
