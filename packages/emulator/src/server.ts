import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { buffer } from "node:stream/consumers";
import { fileURLToPath } from "node:url";
import type { UserSpec } from "./seed";

/** How to install the emulator, for every message that says it is missing. */
/** The one moto version the emulator's patches (python/moto_server.py) are written and tested for. */
export const MOTO_VERSION = "5.2.1";
export const MOTO_INSTALL_HINT = `Install the moto AWS emulator with: pip install "moto[server]==${MOTO_VERSION}"  (it provides moto_server; where the system Python refuses pip (PEP 668, e.g. Debian), use pipx install "moto[server]==${MOTO_VERSION}" or a virtual environment)`;

export class EmulatorNotFoundError extends Error {
  constructor() {
    super(
      `The moto AWS emulator was not found (no moto_server on PATH, and python3 cannot import moto.server).\n${MOTO_INSTALL_HINT}`,
    );
    this.name = "EmulatorNotFoundError";
  }
}

/** moto is installed, but not the version the emulator is written for. */
export class EmulatorVersionError extends Error {
  constructor(found: string, python: string) {
    super(
      `The moto AWS emulator ${found} was found (${python}), but orgmfa's emulator patches moto ${MOTO_VERSION} exactly.\n${MOTO_INSTALL_HINT}`,
    );
    this.name = "EmulatorVersionError";
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
   * Whether the organization has trusted access for IAM (Organizations EnableAWSServiceAccess for
   * iam.amazonaws.com). Without it, IAM ListOrganizationsFeatures answers ServiceAccessNotEnabledException.
   * @default true (the emulated organization is one where centralized root access could be enabled)
   */
  setIamTrustedAccess(enabled: boolean): void;
  /**
   * How long IAM takes to generate a credential report: for this long after a new generation starts,
   * GetCredentialReport answers ReportInProgress (404) and GenerateCredentialReport INPROGRESS.
   * @default 100
   */
  setReportGenerationMs(ms: number): void;
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
  /**
   * Registers a FIDO security key or passkey (serial `arn:…:u2f/…`) for an existing user, as the console
   * does: IAM's EnableMFADevice API refuses FIDO serials.
   */
  registerFidoDevice(accountId: string, userName: string, serialNumber: string): Promise<void>;
  /** Clears all emulated state. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartEmulatorOptions {
  /** @default 30000 */
  startTimeoutMs?: number;
}

const REQUEST_ID = "00000000-0000-0000-0000-000000000000";
const STS_DENIED = (roleArn: string, callerArn = "the caller") =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message></Error><RequestId>${REQUEST_ID}</RequestId></ErrorResponse>`;
/** An IAM Query API error, as IAM writes it. */
const IAM_ERROR = (code: string, message: string) =>
  `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${REQUEST_ID}</RequestId></ErrorResponse>`;

/** Sends the request to moto unchanged (same headers, so signatures still verify). */
function forward(
  motoUrl: string,
  req: http.IncomingMessage,
  body: Buffer,
  judged?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const target = new URL(motoUrl);
  return new Promise((resolve, reject) => {
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: {
          ...withoutFraming(req.headers),
          "content-length": String(body.length),
          ...(judged ? { "x-orgmfa-judged": judged } : {}),
        },
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

/** An organization as IAM sees it (the wrapper's /moto-api/orgmfa/caller and /role). */
interface OrgInfo {
  id: string;
  managementAccountId: string;
  featureSet: string;
  iamTrustedAccess: boolean;
  iamDelegatedAdministrators: string[];
}

/** Who signed a request (the wrapper's /moto-api/orgmfa/caller). */
interface Caller {
  /** false: a key moto does not know (the emulator's admin key): the root user of moto's default account. */
  known: boolean;
  type: "User" | "AssumedRole" | "Account";
  account: string;
  /** aws:PrincipalArn: the user's ARN, the role's ARN with its path, or the account's root ARN. */
  arn: string;
  sessionArn?: string;
  policies: unknown[];
  org: OrgInfo | null;
  /** The global condition keys of this caller's requests. */
  context: Record<string, string>;
  /** Is moto's IAM enforcement on? */
  enforced: boolean;
}

interface RoleInfo {
  arn: string;
  account: string;
  trustPolicy: unknown;
  org: OrgInfo | null;
}

/** What the emulator's gateway keeps beside moto. */
interface GatewayState {
  roots: Map<string, EmulatedRootState>;
  features: string[];
  iamTrustedAccess: boolean;
  reportAges: Map<string, number>;
  /** When each account's credential report was generated (IAM makes a new one after four hours). */
  generated: Map<string, number>;
  reportGenerationMs: number;
  /** The account of each AssumeRole-issued key. */
  keyAccount: Map<string, string>;
}

/**
 * The policy engine, loaded when first needed and never bundled (the CLI's bundle carries the emulator
 * for `orgmfa demo`): it reads its IAM data files beside its own modules, so it must stay where npm put it.
 */
const IAM_SIMULATE = "@cloud-copilot/iam-simulate";
let simulator: Promise<typeof import("@cloud-copilot/iam-simulate") | null> | undefined;
/**
 * The engine, or null where it is not installed: it is a development dependency (AGPL-3.0), never
 * shipped with the packed CLI, whose demo then judges AssumeRole as moto does and says so.
 */
const iamSimulate = () => {
  simulator ??= (import(IAM_SIMULATE) as Promise<typeof import("@cloud-copilot/iam-simulate")>).catch(() => null);
  return simulator;
};

/** Whether the emulator judges cross-account AssumeRole with the real policy engine (see `iamSimulate`). */
export async function hasPolicyEngine(): Promise<boolean> {
  return (await iamSimulate()) !== null;
}

const ROOT_POLICY = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };

/**
 * Is `caller` allowed `action` on `resource` (in `resourceAccount`), with `resourcePolicy` (a role's trust
 * policy) if any? null when the engine is not installed. Evaluated by a real IAM policy engine (@cloud-copilot/iam-simulate) with AWS's request
 * context: the caller's identity policies (the root user's are implicitly everything), and for another
 * account's resource both the identity policy and the resource policy must allow.
 */
async function allowed(
  caller: Caller,
  action: string,
  resource: string,
  resourceAccount: string,
  extra: Record<string, string>,
  resourcePolicy?: unknown,
): Promise<boolean | null> {
  const identityPolicies = (caller.type === "Account" ? [ROOT_POLICY] : caller.policies).map((policy, i) => ({
    name: `identity-${i}`,
    policy,
  }));
  const engine = await iamSimulate();
  if (!engine) return null; // not judged here: moto judges as it always did
  const { runSimulation } = engine;
  const r = await runSimulation(
    {
      request: {
        principal: caller.sessionArn ?? caller.arn,
        action,
        resource: { resource, accountId: resourceAccount },
        contextVariables: { ...caller.context, ...extra },
      },
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
    },
    {},
  );
  if (r.resultType === "error") throw new Error(`policy evaluation failed: ${JSON.stringify(r.errors).slice(0, 500)}`);
  return r.overallResult === "Allowed";
}

/**
 * The gateway adds to moto the AWS behaviours it lacks and orgmfa depends on:
 * - STS AssumeRole is judged as AWS judges it (with IAM enforcement on): the TARGET role's trust policy
 *   (principals, aws:PrincipalArn — a session's role ARN with its path —, aws:PrincipalOrgID,
 *   aws:PrincipalAccount, sts:ExternalId…) and the caller's identity policy (aws:ResourceOrgID…), by a
 *   real policy engine; moto looked the role up in the caller's account (so it never judged another
 *   account's trust policy). A role that does not exist is refused whether enforcement is on or off.
 * - GetAccountSummary reports the root credential state declared for an account
 *   (moto always says root has no MFA and omits AccountPasswordPresent);
 * - IAM ListOrganizationsFeatures answers (moto does not implement it) only the organization's
 *   management account or IAM's delegated administrator, with AWS's errors otherwise;
 * - the credential report is a snapshot taken when it is generated (again only when the last one is
 *   more than four hours old), in progress for a while after that, dated when it was generated and
 *   with the `<root_account>` row first (moto built it when read, dated 2015, without root).
 * (Same-account AssumeRole outside the gateway is patched in python/moto_server.py.)
 * Everything else passes through untouched, byte for byte.
 */
function startGateway(motoUrl: string, state: GatewayState, secret: string): Promise<http.Server> {
  const lookup = async <T>(path: string): Promise<T | null> => {
    const r = await fetch(`${motoUrl}${path}`);
    const text = await r.text();
    if (r.status === 404) return null;
    if (!r.ok) throw new Error(`${path} answered ${r.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  };
  const callerOf = async (req: http.IncomingMessage) =>
    (await lookup<Caller>(`/moto-api/orgmfa/caller?key=${encodeURIComponent(accessKeyOf(req) ?? "")}`)) as Caller;
  const roleOf = (roleArn: string) => lookup<RoleInfo>(`/moto-api/orgmfa/role?arn=${encodeURIComponent(roleArn)}`);
  const send = (res: http.ServerResponse, status: number, xml: string) =>
    res.writeHead(status, { "content-type": "text/xml" }).end(xml);

  const server = http.createServer(async (req, res) => {
    try {
      // Only the gateway may say a request was judged.
      delete req.headers["x-orgmfa-judged"];
      const body = await buffer(req);
      const form = (req.headers["content-type"] ?? "").includes("x-www-form-urlencoded")
        ? new URLSearchParams(body.toString("utf8"))
        : null;
      const action = form?.get("Action");
      if (action === "ListOrganizationsFeatures") {
        const caller = await callerOf(req);
        if (caller.enforced && !caller.known) {
          // moto refuses the key (InvalidClientTokenId), as AWS would.
        } else {
          if (
            caller.enforced &&
            (await allowed(caller, "iam:ListOrganizationsFeatures", "*", caller.account, {})) === false
          ) {
            send(
              res,
              403,
              IAM_ERROR(
                "AccessDenied",
                `User: ${caller.sessionArn ?? caller.arn} is not authorized to perform: iam:ListOrganizationsFeatures on resource: *`,
              ),
            );
            return;
          }
          const refusal = organizationsFeaturesRefusal(caller, state);
          if (refusal) {
            send(res, 400, IAM_ERROR(refusal.code, refusal.message));
            return;
          }
          const members = state.features.map((f) => `<member>${f}</member>`).join("");
          send(
            res,
            200,
            `<?xml version="1.0" encoding="UTF-8"?>\n<ListOrganizationsFeaturesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListOrganizationsFeaturesResult><OrganizationId>${caller.org?.id}</OrganizationId><EnabledFeatures>${members}</EnabledFeatures></ListOrganizationsFeaturesResult><ResponseMetadata><RequestId>${REQUEST_ID}</RequestId></ResponseMetadata></ListOrganizationsFeaturesResponse>`,
          );
          return;
        }
      }
      let judged = false;
      if (action === "AssumeRole") {
        const roleArn = form?.get("RoleArn") ?? "";
        const role = await roleOf(roleArn);
        if (!role) {
          send(res, 403, STS_DENIED(roleArn));
          return;
        }
        const caller = await callerOf(req);
        if (caller.enforced && caller.known) {
          const extra: Record<string, string> = { "aws:ResourceAccount": role.account };
          if (role.org) extra["aws:ResourceOrgID"] = role.org.id;
          const externalId = form?.get("ExternalId");
          if (externalId) extra["sts:ExternalId"] = externalId;
          const sessionName = form?.get("RoleSessionName");
          if (sessionName) extra["sts:RoleSessionName"] = sessionName;
          const verdict = await allowed(caller, "sts:AssumeRole", role.arn, role.account, extra, role.trustPolicy);
          if (verdict === false) {
            send(res, 403, STS_DENIED(roleArn, caller.sessionArn ?? caller.arn));
            return;
          }
          judged = verdict === true;
        }
      }
      if (action === "GetCredentialReport" || action === "GenerateCredentialReport") {
        // Answered below from what moto says (authorisation) and the gateway's clock.
      }
      const upstream = await forward(motoUrl, req, body, judged ? secret : undefined);
      let payload = upstream.body;
      let status = upstream.status;
      const ok = upstream.status >= 200 && upstream.status < 300;
      if (action === "AssumeRole" && ok) {
        const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(payload.toString("utf8"))?.[1];
        const account = /arn:[^:]+:iam::(\d{12}):role\//.exec(form?.get("RoleArn") ?? "")?.[1];
        if (key && account) state.keyAccount.set(key, account);
      }
      const account = state.keyAccount.get(accessKeyOf(req) ?? "") ?? DEFAULT_ACCOUNT;
      const now = Date.now();
      if (action === "GenerateCredentialReport" && ok) {
        const at = state.generated.get(account);
        let reportState: string;
        // IAM generates anew only when the last report is more than four hours old (as declared, too).
        if (at === undefined || now - at + (state.reportAges.get(account) ?? 0) > 4 * 3600_000) {
          const root = state.roots.get(account) ?? { password: false, accessKeys: false, mfa: false };
          const r = await fetch(`${motoUrl}/moto-api/orgmfa/credential-report`, {
            method: "POST",
            body: JSON.stringify({ accountId: account, root }),
          });
          const text = await r.text();
          if (!r.ok) throw new Error(`credential report snapshot answered ${r.status}: ${text.slice(0, 300)}`);
          state.generated.set(account, now);
          state.reportAges.delete(account);
          reportState = "STARTED";
        } else reportState = now - at < state.reportGenerationMs ? "INPROGRESS" : "COMPLETE";
        payload = Buffer.from(
          `<GenerateCredentialReportResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GenerateCredentialReportResult><State>${reportState}</State>${reportState === "STARTED" ? "<Description>No report exists. Starting a new report generation task</Description>" : ""}</GenerateCredentialReportResult><ResponseMetadata><RequestId>${REQUEST_ID}</RequestId></ResponseMetadata></GenerateCredentialReportResponse>`,
        );
      }
      if (action === "GetCredentialReport") {
        const at = state.generated.get(account);
        if (ok && at !== undefined && now - at < state.reportGenerationMs) {
          send(res, 404, IAM_ERROR("ReportInProgress", "Report generation in progress"));
          return;
        }
        if (!ok && /<Code>ReportNotPresent<\/Code>/.test(payload.toString("utf8"))) status = 410;
        if (ok) {
          const shown = (at ?? now) - (state.reportAges.get(account) ?? 0);
          const when = new Date(Math.floor(shown / 1000) * 1000).toISOString().replace(".000Z", "Z");
          payload = Buffer.from(
            payload
              .toString("utf8")
              .replace(/<GeneratedTime>[^<]*<\/GeneratedTime>/, `<GeneratedTime>${when}</GeneratedTime>`),
          );
        }
      }
      if (action === "GetAccountSummary" && ok) {
        const key = accessKeyOf(req);
        const root = key ? state.roots.get(state.keyAccount.get(key) ?? "") : undefined;
        if (root) payload = Buffer.from(patchSummary(payload.toString("utf8"), root));
      }
      const headers = { ...upstream.headers };
      delete headers["content-length"];
      delete headers["transfer-encoding"];
      delete headers.connection;
      res.writeHead(status, { ...headers, "content-length": String(payload.length) }).end(payload);
    } catch (e) {
      res.writeHead(502, { "content-type": "text/plain" }).end(`emulator gateway: ${(e as Error).message}`);
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/**
 * Why IAM refuses ListOrganizationsFeatures to this caller, or null (IAM API Reference,
 * ListOrganizationsFeatures, Errors: all HTTP 400).
 */
function organizationsFeaturesRefusal(caller: Caller, state: GatewayState): { code: string; message: string } | null {
  const org = caller.org;
  if (!org)
    return {
      code: "OrganizationNotFoundException",
      message: "The request was rejected because no organization is associated with your account.",
    };
  if (org.featureSet !== "ALL")
    return {
      code: "OrganizationNotInAllFeaturesModeException",
      message: "The request was rejected because your organization does not have All features enabled.",
    };
  if (caller.account !== org.managementAccountId && !org.iamDelegatedAdministrators.includes(caller.account))
    return {
      code: "AccountNotManagementOrDelegatedAdministratorException",
      message:
        "The request was rejected because the account making the request is not the management account or delegated administrator account for centralized root access.",
    };
  if (!state.iamTrustedAccess)
    return {
      code: "ServiceAccessNotEnabledException",
      message: "The request was rejected because trusted access is not enabled for IAM in Organizations.",
    };
  return null;
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
  // The gateway marks the requests it has judged (AssumeRole) with a secret only it and moto know.
  const secret = randomBytes(24).toString("hex");
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
    await waitReady(motoEndpoint, child, options.startTimeoutMs ?? 30_000);
  } catch (e) {
    child.kill("SIGKILL");
    throw new EmulatorStartError(`${(e as Error).message}\n${stderr}`);
  }
  const state: GatewayState = {
    roots: new Map(),
    features: [],
    iamTrustedAccess: true,
    reportAges: new Map(),
    generated: new Map(),
    reportGenerationMs: 100,
    keyAccount: new Map(),
  };
  const gateway = await startGateway(motoEndpoint, state, secret);
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
      state.features = [...list];
    },
    setIamTrustedAccess: (enabled) => {
      state.iamTrustedAccess = enabled;
    },
    setReportGenerationMs: (ms) => {
      state.reportGenerationMs = ms;
    },
    setSecurityHubDisabled: async (accountIds) => {
      await post("/moto-api/orgmfa/securityhub-disabled", JSON.stringify(accountIds));
    },
    createUsers: async (accountId, users) => {
      if (users.length) await post("/moto-api/orgmfa/iam-users", JSON.stringify({ accountId, users }));
    },
    registerFidoDevice: async (accountId, userName, serialNumber) => {
      await post("/moto-api/orgmfa/fido-device", JSON.stringify({ accountId, userName, serialNumber }));
    },
    setRootState: (accountId, root) => {
      state.roots.set(accountId, root);
    },
    setReportAge: (accountId, ageMs) => {
      state.reportAges.set(accountId, ageMs);
    },
    reset: async () => {
      state.roots.clear();
      state.reportAges.clear();
      state.generated.clear();
      state.keyAccount.clear();
      state.features = [];
      state.iamTrustedAccess = true;
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
