import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { buffer } from "node:stream/consumers";
import { fileURLToPath } from "node:url";
import type { UserSpec } from "./seed";

/** How to install the emulator, for every message that says it is missing. */
export const MOTO_INSTALL_HINT =
  'Install the moto AWS emulator with: pip install "moto[server]>=5.2"  (it provides moto_server)';

export class EmulatorNotFoundError extends Error {
  constructor() {
    super(
      `The moto AWS emulator was not found (no moto_server on PATH, and python3 cannot import moto.server).\n${MOTO_INSTALL_HINT}`,
    );
    this.name = "EmulatorNotFoundError";
  }
}

export class EmulatorStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EmulatorStartError";
  }
}

/** moto's server with Security Hub authorised on real resource ARNs (see the file). */
const MOTO_WRAPPER = fileURLToPath(new URL("../python/moto_server.py", import.meta.url));

/**
 * The command that starts moto's server (through orgmfa's wrapper, with the Python that has moto:
 * python3, or the interpreter of `moto_server` on PATH), or null when moto is not installed.
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
  for (const python of candidates) {
    const ok = spawnSync(python, ["-c", "import moto.server, moto.securityhub"], { encoding: "utf8" });
    if (ok.status === 0) return { command: python, args: [MOTO_WRAPPER] };
  }
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

/** What the emulator cannot say about root: the state an emulated account's root user is in. */
export interface EmulatedRootState {
  password: boolean;
  accessKeys: boolean;
  mfa: boolean;
}

export interface Emulator {
  /** The endpoint clients use (the gateway in front of moto). */
  endpoint: string;
  /** moto itself, without the gateway. */
  motoEndpoint: string;
  /** Turns moto's IAM policy enforcement on or off. */
  setIamEnforcement(on: boolean): Promise<void>;
  /**
   * Runs `f` as the emulator's administrator would see it: enforcement off while it runs (a test
   * reading back what landed), on again after, however `f` ends.
   */
  unenforced<T>(f: () => Promise<T>): Promise<T>;
  /** Declares an account's root credential state (moto has no root credentials). */
  setRootState(accountId: string, state: EmulatedRootState): void;
  /**
   * Declares an account's credential report older than it is (as another tool would leave one
   * generated hours ago): its GeneratedTime is moved back by `ageMs`. @default 0
   */
  setReportAge(accountId: string, ageMs: number): void;
  /** IAM organization features (e.g. "RootCredentialsManagement") ListOrganizationsFeatures reports. */
  setOrganizationFeatures(list: string[]): void;
  /**
   * Accounts whose Security Hub is not enabled (in any region): GetFindings and BatchImportFindings
   * there answer InvalidAccessException. Replaces the previous list; [] enables every hub again.
   */
  setSecurityHubDisabled(accountIds: string[]): Promise<void>;
  /**
   * Creates IAM users in an account in one request (seeding), through the backend calls the IAM API
   * makes: the same state `createUser` leaves, without a round trip per call.
   */
  createUsers(accountId: string, users: UserSpec[]): Promise<void>;
  /** Clears all emulated state. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartEmulatorOptions {
  /** @default 30000 */
  startTimeoutMs?: number;
}

const STS_DENIED = (roleArn: string) =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`;

/** Sends the request to moto unchanged (same headers, so signatures still verify). */
function forward(
  motoUrl: string,
  req: http.IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const target = new URL(motoUrl);
  return new Promise((resolve, reject) => {
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...withoutFraming(req.headers), "content-length": String(body.length) },
      },
      (r) => {
        buffer(r).then((b) => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: b }), reject);
      },
    );
    up.on("error", reject);
    up.end(body);
  });
}

/** Request headers without hop-by-hop framing (the body is re-sent whole, with its length). */
function withoutFraming(headers: http.IncomingHttpHeaders): http.IncomingHttpHeaders {
  const { "transfer-encoding": _te, connection: _c, expect: _e, ...rest } = headers;
  return rest;
}

/** moto's account for credentials it does not know (the emulator's default identity). */
const DEFAULT_ACCOUNT = "123456789012";

function accessKeyOf(req: http.IncomingMessage): string | null {
  const auth = req.headers.authorization ?? "";
  return /Credential=([A-Z0-9]+)\//.exec(auth)?.[1] ?? null;
}

/**
 * The gateway adds to moto the two AWS behaviours it lacks and orgmfa depends on:
 * - STS AssumeRole fails with AccessDenied when the role does not exist in the target account
 *   (moto hands out credentials for any ARN);
 * - GetAccountSummary reports the root credential state declared for an account
 *   (moto always says root has no MFA and omits AccountPasswordPresent);
 * - IAM ListOrganizationsFeatures answers (moto does not implement it);
 * - a credential report is dated when it was generated, as IAM does (moto dates every report
 *   2015-02-02T20:02:02Z while building its content when read), and can be declared older.
 * (Same-account AssumeRole, which moto judged wrongly, is patched in python/moto_server.py.)
 * Everything else passes through untouched, byte for byte.
 */
function startGateway(
  motoUrl: string,
  roots: Map<string, EmulatedRootState>,
  features: { list: string[] },
  reportAges: Map<string, number>,
): Promise<http.Server> {
  const keyAccount = new Map<string, string>();
  /** When each account's credential report was generated (IAM makes a new one after four hours). */
  const generated = new Map<string, number>();
  /** Does the role exist (now)? The wrapper's /moto-api/orgmfa/role answers 404 when it does not. */
  const roleExists = async (roleArn: string): Promise<boolean> => {
    const r = await fetch(`${motoUrl}/moto-api/orgmfa/role?arn=${encodeURIComponent(roleArn)}`);
    await r.arrayBuffer();
    if (r.status === 404) return false;
    if (!r.ok) throw new Error(`role lookup answered ${r.status}`);
    return true;
  };
  const server = http.createServer(async (req, res) => {
    try {
      const body = await buffer(req);
      const form = (req.headers["content-type"] ?? "").includes("x-www-form-urlencoded")
        ? new URLSearchParams(body.toString("utf8"))
        : null;
      const action = form?.get("Action");
      if (action === "ListOrganizationsFeatures") {
        // Not in moto; answered as IAM does for an organization with no centralized root features.
        const members = features.list.map((f) => `<member>${f}</member>`).join("");
        res
          .writeHead(200, { "content-type": "text/xml" })
          .end(
            `<?xml version="1.0" encoding="UTF-8"?>\n<ListOrganizationsFeaturesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListOrganizationsFeaturesResult><EnabledFeatures>${members}</EnabledFeatures></ListOrganizationsFeaturesResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></ListOrganizationsFeaturesResponse>`,
          );
        return;
      }
      if (action === "AssumeRole") {
        // Same-account calls are judged by moto itself (the caller's identity policy and the role's
        // trust policy; python/moto_server.py matches account-root principals as AWS does).
        const roleArn = form?.get("RoleArn") ?? "";
        if (!(await roleExists(roleArn))) {
          res.writeHead(403, { "content-type": "text/xml" }).end(STS_DENIED(roleArn));
          return;
        }
      }
      const upstream = await forward(motoUrl, req, body);
      let payload = upstream.body;
      const ok = upstream.status >= 200 && upstream.status < 300;
      if (action === "AssumeRole" && ok) {
        const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(payload.toString("utf8"))?.[1];
        const account = /arn:[^:]+:iam::(\d{12}):role\//.exec(form?.get("RoleArn") ?? "")?.[1];
        if (key && account) keyAccount.set(key, account);
      }
      const account = keyAccount.get(accessKeyOf(req) ?? "") ?? DEFAULT_ACCOUNT;
      if (action === "GenerateCredentialReport" && ok) {
        const at = generated.get(account);
        if (at === undefined || Date.now() - at > 4 * 3600_000) generated.set(account, Date.now());
      }
      if (action === "GetCredentialReport" && ok) {
        const at = (generated.get(account) ?? Date.now()) - (reportAges.get(account) ?? 0);
        const when = new Date(Math.floor(at / 1000) * 1000).toISOString().replace(".000Z", "Z");
        payload = Buffer.from(
          payload
            .toString("utf8")
            .replace(/<GeneratedTime>[^<]*<\/GeneratedTime>/, `<GeneratedTime>${when}</GeneratedTime>`),
        );
      }
      if (action === "GetAccountSummary" && ok) {
        const key = accessKeyOf(req);
        const state = key ? roots.get(keyAccount.get(key) ?? "") : undefined;
        if (state) payload = Buffer.from(patchSummary(payload.toString("utf8"), state));
      }
      const headers = { ...upstream.headers };
      delete headers["content-length"];
      delete headers["transfer-encoding"];
      delete headers.connection;
      res.writeHead(upstream.status, { ...headers, "content-length": String(payload.length) }).end(payload);
    } catch (e) {
      res.writeHead(502, { "content-type": "text/plain" }).end(`emulator gateway: ${(e as Error).message}`);
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function patchSummary(xml: string, s: EmulatedRootState): string {
  const set = (doc: string, key: string, value: number) => {
    const re = new RegExp(`<entry>\\s*<key>${key}</key>\\s*<value>\\d+</value>\\s*</entry>`);
    const entry = `<entry><key>${key}</key><value>${value}</value></entry>`;
    return re.test(doc) ? doc.replace(re, entry) : doc.replace("</SummaryMap>", `${entry}</SummaryMap>`);
  };
  let out = set(xml, "AccountPasswordPresent", s.password ? 1 : 0);
  out = set(out, "AccountAccessKeysPresent", s.accessKeys ? 1 : 0);
  out = set(out, "AccountSigningCertificatesPresent", 0);
  return set(out, "AccountMFAEnabled", s.mfa ? 1 : 0);
}

/**
 * Starts moto on a free loopback port, with the gateway in front of it, and waits until it answers.
 *
 * @throws EmulatorNotFoundError when moto is not installed (the message says how to install it).
 */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<Emulator> {
  const moto = findMoto();
  if (!moto) throw new EmulatorNotFoundError();
  const port = await freePort();
  const motoEndpoint = `http://127.0.0.1:${port}`;
  const child = spawn(moto.command, [...moto.args, "-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: "true" },
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
    // Moto's own log (tracebacks of its 500s), when debugging the emulator.
    if (process.env.ORGMFA_EMULATOR_LOG === "1") process.stderr.write(d);
  });
  try {
    await waitReady(motoEndpoint, child, options.startTimeoutMs ?? 30_000);
  } catch (e) {
    child.kill("SIGKILL");
    throw new EmulatorStartError(`${(e as Error).message}\n${stderr}`);
  }
  const roots = new Map<string, EmulatedRootState>();
  const features = { list: [] as string[] };
  const reportAges = new Map<string, number>();
  const gateway = await startGateway(motoEndpoint, roots, features, reportAges);
  const endpoint = `http://127.0.0.1:${(gateway.address() as net.AddressInfo).port}`;
  const post = async (path: string, body?: string) => {
    const r = await fetch(`${motoEndpoint}${path}`, { method: "POST", body });
    const text = await r.text();
    if (!r.ok) throw new Error(`the emulator answered ${r.status} to ${path}: ${text.slice(0, 500)}`);
  };
  const setIamEnforcement = async (on: boolean) => {
    await post("/moto-api/reset-auth", on ? "0" : "1000000000");
  };
  return {
    endpoint,
    motoEndpoint,
    setIamEnforcement,
    unenforced: async (f) => {
      await setIamEnforcement(false);
      try {
        return await f();
      } finally {
        await setIamEnforcement(true);
      }
    },
    setOrganizationFeatures: (list) => {
      features.list = [...list];
    },
    setSecurityHubDisabled: async (accountIds) => {
      await post("/moto-api/orgmfa/securityhub-disabled", JSON.stringify(accountIds));
    },
    createUsers: async (accountId, users) => {
      if (users.length) await post("/moto-api/orgmfa/iam-users", JSON.stringify({ accountId, users }));
    },
    setRootState: (accountId, state) => {
      roots.set(accountId, state);
    },
    setReportAge: (accountId, ageMs) => {
      reportAges.set(accountId, ageMs);
    },
    reset: async () => {
      roots.clear();
      reportAges.clear();
      features.list = [];
      await post("/moto-api/reset");
      await post("/moto-api/orgmfa/securityhub-disabled", "[]");
    },
    stop: async () => {
      gateway.closeAllConnections();
      await new Promise<void>((r) => gateway.close(() => r()));
      if (child.exitCode === null) {
        const exited = new Promise<void>((r) => child.once("exit", () => r()));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
  };
}
