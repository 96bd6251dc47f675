import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { OrgMfaError } from "@orgmfa/core";

/** The one moto version the emulator's patches (python/orgmfa_moto) are written and tested for. */
export const MOTO_VERSION = "5.2.1";
/** How to install the emulator, for every message that says it is missing. */
export const MOTO_INSTALL_HINT = `Install the moto AWS emulator with: pip install "moto[server]==${MOTO_VERSION}"  (it provides moto_server; where the system Python refuses pip (PEP 668, e.g. Debian), use pipx install "moto[server]==${MOTO_VERSION}" or a virtual environment)`;

export class EmulatorNotFoundError extends OrgMfaError {
  readonly kind = "environment";
  constructor() {
    super(
      `The moto AWS emulator was not found (no moto_server on PATH, and python3 cannot import moto.server).\n${MOTO_INSTALL_HINT}`,
    );
  }
}

/** moto is installed, but not the version the emulator is written for. */
export class EmulatorVersionError extends OrgMfaError {
  readonly kind = "environment";
  constructor(found: string, python: string) {
    super(
      `The moto AWS emulator ${found} was found (${python}), but orgmfa's emulator patches moto ${MOTO_VERSION} exactly.\n${MOTO_INSTALL_HINT}`,
    );
  }
}

export class EmulatorStartError extends OrgMfaError {
  readonly kind = "environment";
}

/**
 * The Python side: the whole python/ directory (the server's entry moto_server.py and, beside it, the
 * package orgmfa_moto with every patch of moto and the control endpoints). The entry puts its own
 * directory on Python's path, so the package is found wherever python/ is: in the checkout, or under
 * the CLI's dist/files/ (scripts/build-cli.mjs copies this directory whole).
 */
const PYTHON_DIR = fileURLToPath(new URL("../python/", import.meta.url));
const MOTO_WRAPPER = `${PYTHON_DIR}moto_server.py`;

/**
 * The command that starts moto's server (through orgmfa's wrapper, with the Python that has moto:
 * python3, or the interpreter of `moto_server` on PATH), or null when moto is not installed.
 *
 * @throws EmulatorVersionError when the moto found is not {@link MOTO_VERSION}.
 */
export function findMoto(): { command: string; args: string[] } | null {
  const candidates = ["python3"];
  const which = spawnSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" });
  const script = which.status === 0 ? which.stdout.trim() : "";
  if (script) {
    try {
      const shebang = /^#!\s*(\S+)/.exec(readFileSync(script, "utf8").split("\n", 1)[0] ?? "")?.[1];
      if (shebang) candidates.push(shebang);
    } catch {
      // A binary moto_server: no interpreter to reuse.
    }
  }
  let wrong: { version: string; python: string } | null = null;
  for (const python of candidates) {
    const ok = spawnSync(python, ["-c", "import moto, moto.server, moto.securityhub; print(moto.__version__)"], {
      encoding: "utf8",
    });
    if (ok.status !== 0) continue;
    const version = ok.stdout.trim();
    if (version === MOTO_VERSION) return { command: python, args: [MOTO_WRAPPER] };
    wrong ??= { version, python };
  }
  if (wrong) throw new EmulatorVersionError(wrong.version, wrong.python);
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new EmulatorStartError(`moto exited with code ${child.exitCode} while starting`);
    try {
      const r = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await r.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new EmulatorStartError(`moto did not answer at ${url} within ${timeoutMs} ms`);
}

/** moto's server, running on loopback. */
export interface MotoProcess {
  /** moto itself, without the gateway. */
  endpoint: string;
  /** Stops the server: SIGTERM, then SIGKILL after 3 s. */
  stop(): Promise<void>;
}

/**
 * Starts moto's server on a free loopback port (through the wrapper found by `moto`) and waits until
 * it answers. `secret` is handed to it for the requests the gateway has judged (see gateway.ts).
 *
 * @throws EmulatorStartError when it exits or does not answer in time (with the end of its stderr).
 */
export async function startMoto(
  moto: { command: string; args: string[] },
  secret: string,
  timeoutMs: number,
): Promise<MotoProcess> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(moto.command, [...moto.args, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    // The wrapper watches ORGMFA_PARENT_PID from its first instant and exits when it is gone: no orphan.
    env: {
      ...process.env,
      MOTO_ALLOW_NONEXISTENT_REGION: "true",
      ORGMFA_GATEWAY_SECRET: secret,
      ORGMFA_PARENT_PID: String(process.pid),
    },
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
    // Moto's own log (tracebacks of its 500s), when debugging the emulator.
    if (process.env.ORGMFA_EMULATOR_LOG === "1") process.stderr.write(d);
  });
  try {
    await waitReady(endpoint, child, timeoutMs);
  } catch (e) {
    child.kill("SIGKILL");
    throw new EmulatorStartError(`${(e as Error).message}\n${stderr}`);
  }
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
  };
}
