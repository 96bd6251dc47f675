import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../apps/cli/bin/orgmfa.js", import.meta.url));

/** The SDK's switch for its Node-version notice: no part of anyone's AWS setup, kept in clean environments. */
export const SDK_NOTICE_SWITCH = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

/** An environment with nothing of the developer's AWS setup in it. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && (!k.startsWith("AWS_") || k === SDK_NOTICE_SWITCH)) env[k] = v;
  Object.assign(env, {
    AWS_CONFIG_FILE: "/nonexistent/orgmfa-test-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/orgmfa-test-credentials",
    AWS_EC2_METADATA_DISABLED: "true",
    NO_COLOR: "1",
  });
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

/** Runs the real `orgmfa` binary as a user would. */
export function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runProcess(process.execPath, [BIN, ...args], { env });
}

/** Runs a command to its end, keeping its stdout and stderr (code -1: ended by a signal). */
export function runProcess(
  command: string,
  args: string[],
  o: { env: Record<string, string>; cwd?: string },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: o.env, cwd: o.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The environment of the scanner role on the emulator: what `orgmfa scan` sees in a real deployment. */
export function scannerEnv(
  endpoint: string,
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Record<string, string> {
  return cleanEnv({
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_SESSION_TOKEN: creds.sessionToken,
  });
}
