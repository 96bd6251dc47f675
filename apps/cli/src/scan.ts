import { createReadStream, createWriteStream, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  ClientPool,
  type DeliveryTarget,
  DiscoveryError,
  type DiscoveryFilters,
  doctorDelivery,
  EmptyScopeError,
  emptyScopeMessage,
  errorCode,
  errorMessage,
  hubProblems,
  isCallerCredentialsError,
  loadLatestScan,
  type PublishResult,
  type PublishTargets,
  profileExists,
  profileFiles,
  publishReport,
  resolveRegion,
  runScan,
  ScannerCredentialsError,
  tuneHeapForScan,
} from "@orgmfa/aws";
import {
  CHECK_IDS,
  ConfigError,
  EXIT,
  exitCodeFor,
  type FailOn,
  headlineText,
  type OrgMfaConfig,
  type PreviousScan,
  parseConfigText,
  plural,
  policyFromConfig,
  ReportSchemaError,
  readPreviousScan,
  type ScanReport,
  sha256Hex,
  writeScanDir,
} from "@orgmfa/core";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { parseCheckIds } from "./checks";
import { UsageError } from "./errors";
import { colorFor, type Io, type LogLevel, makeLog, sinks } from "./io";
import { DEFAULT_S3_PREFIX } from "./options";
import { checkOutputFile, prepareOutDir, resolveFormat } from "./outputs";
import { Progress } from "./progress";
import { type Format, renderChunks } from "./render";
import { VERSION } from "./version";

export interface ScanFlags {
  profile?: string;
  region?: string;
  roleName: string;
  externalId?: string;
  orgRoleArn?: string;
  accounts?: string[];
  excludeAccounts?: string[];
  ou?: string[];
  excludeOu?: string[];
  concurrency: number;
  config?: string;
  /** Undefined: not given (inferred from --output's extension, else the table). */
  format?: Format;
  output?: string;
  outDir?: string;
  s3Bucket?: string;
  s3Prefix?: string;
  securityHub?: boolean;
  snsTopicArn?: string;
  failOn: FailOn;
  allowPartial: boolean;
  checks?: string[];
  excludeChecks?: string[];
  /** List every user's devices (config `completeInventory`). */
  completeInventory?: boolean;
  /** Trust a credential report at most this old (ms). */
  maxReportAge?: number;
  /** IAM calls in flight at once within one account. @default 4 */
  perAccountConcurrency?: number;
  /** Periodic progress lines on stderr even when it is not a terminal. */
  progress?: boolean;
  /** @default "warn" ("error" with --quiet) */
  logLevel?: LogLevel;
  quiet: boolean;
  color: boolean;
}

export interface ScanIo extends Io {
  /** Base credentials instead of the standard chain (the demo). */
  credentials?: AwsCredentialIdentityProvider;
  /** A config used when no --config is given (the demo). */
  defaultConfig?: OrgMfaConfig;
  /** Per-account time limit. */
  accountTimeoutMs?: number;
}

const ACCOUNT_ID = /^\d{12}$/;
/** An OU reference: anything but an empty or blank name (Organizations allows 1–128 characters). */
const OU_REF = /^(?=.*\S).{1,260}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?$/;

/** Checks every flag before anything touches AWS; each message names the flag. */
/** The flags validateFlags checks: every command passes those it has. */
type CheckedFlags = Pick<ScanFlags, "concurrency" | "roleName"> &
  Partial<
    Pick<
      ScanFlags,
      | "accounts"
      | "excludeAccounts"
      | "ou"
      | "excludeOu"
      | "checks"
      | "excludeChecks"
      | "externalId"
      | "orgRoleArn"
      | "perAccountConcurrency"
      | "profile"
      | "region"
      | "s3Bucket"
      | "s3Prefix"
      | "snsTopicArn"
    >
  >;

export function validateFlags(f: CheckedFlags): void {
  const ids = (flag: string, list: string[] | undefined, re: RegExp, what: string) => {
    if (list && list.length === 0)
      throw new UsageError(`${flag}: the list is empty; give ${what} (comma-separated), or leave out ${flag}.`);
    for (const id of list ?? []) if (!re.test(id)) throw new UsageError(`${flag}: "${id}" is not ${what}`);
  };
  ids("--accounts", f.accounts, ACCOUNT_ID, "a 12-digit account id");
  ids("--exclude-accounts", f.excludeAccounts, ACCOUNT_ID, "a 12-digit account id");
  // OUs may be ids, paths or names: discovery resolves them against the organization.
  ids("--ou", f.ou, OU_REF, "an OU id (ou-xxxx-xxxxxxxx), root id (r-xxxx), path (Root/Workloads/Prod) or name");
  ids("--exclude-ou", f.excludeOu, OU_REF, "an OU id (ou-xxxx-xxxxxxxx), root id (r-xxxx), path or name");
  if (!Number.isInteger(f.concurrency) || f.concurrency < 1 || f.concurrency > 256) {
    throw new UsageError(`--concurrency: "${f.concurrency}" must be a whole number from 1 to 256`);
  }
  if (
    f.perAccountConcurrency !== undefined &&
    (!Number.isInteger(f.perAccountConcurrency) || f.perAccountConcurrency < 1 || f.perAccountConcurrency > 32)
  )
    throw new UsageError(
      `--per-account-concurrency: "${f.perAccountConcurrency}" must be a whole number from 1 to 32 (IAM throttles an account beyond a few calls at once)`,
    );
  if (f.orgRoleArn !== undefined && !ROLE_ARN.test(f.orgRoleArn))
    throw new UsageError(
      `--org-role-arn: "${f.orgRoleArn}" is not an IAM role ARN (arn:aws:iam::<management account>:role/OrgMfaAuditRole)`,
    );
  if (!/^[\w+=,.@-]{1,64}$/.test(f.roleName))
    throw new UsageError(`--role-name: "${f.roleName}" is not an IAM role name`);
  if (f.externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(f.externalId))
    throw new UsageError("--external-id: must be 2–1224 characters of letters, digits and +=,.@:/-");
  if (f.s3Bucket !== undefined && !BUCKET.test(f.s3Bucket))
    throw new UsageError(
      `--s3-bucket: "${f.s3Bucket}" is not an S3 bucket name (3–63 lowercase letters, digits, dots, hyphens)`,
    );
  if (f.s3Prefix !== undefined && f.s3Bucket === undefined)
    throw new UsageError("--s3-prefix: needs --s3-bucket (the bucket the prefix is in)");
  if (f.s3Prefix !== undefined && (f.s3Prefix.length > 512 || !/^[\w!\-.*'()/=+@$:;,&?]*$/.test(f.s3Prefix)))
    throw new UsageError(`--s3-prefix: "${f.s3Prefix}" is not a usable S3 key prefix`);
  if (f.snsTopicArn !== undefined && !TOPIC_ARN.test(f.snsTopicArn))
    throw new UsageError(
      `--sns-topic-arn: "${f.snsTopicArn}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`,
    );
  if (f.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(f.region))
    throw new UsageError(`--region: "${f.region}" is not an AWS region name (e.g. us-east-1)`);
  if (f.profile !== undefined && f.profile.trim() === "") throw new UsageError("--profile: the profile name is empty");
  const checks = parseCheckIds("--checks", f.checks ?? []);
  const excluded = parseCheckIds("--exclude-checks", f.excludeChecks ?? []);
  if (f.checks && checks.length === 0) throw new UsageError("--checks: the list is empty (see orgmfa checks)");
  if (f.excludeChecks && excluded.length === 0)
    throw new UsageError("--exclude-checks: the list is empty (see orgmfa checks)");
  if (f.checks && checks.every((c) => excluded.includes(c)))
    throw new UsageError("--checks and --exclude-checks together leave no check to run");
  if (!f.checks && excluded.length === CHECK_IDS.length)
    throw new UsageError("--exclude-checks: every check is excluded; nothing would be checked");
}

/**
 * `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>` must be URLs with a scheme; the SDK's own
 * error for `localhost:5000` is a bare `TypeError: Invalid URL`.
 */
export function checkEndpointEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const [name, value] of Object.entries(env)) {
    if (!/^AWS_ENDPOINT_URL(_[A-Z0-9_]+)?$/.test(name) || value === undefined || value === "") continue;
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(value).protocol);
    } catch {
      ok = false;
    }
    if (!ok)
      throw new UsageError(
        `${name}: "${value}" is not an http(s) URL. Write it with its scheme, e.g. http://${value.replace(/^\w+:\/\//, "")}`,
      );
  }
}

/** The config with `--checks` / `--exclude-checks` applied (the flags win over the file). */
export function applyCheckFlags(config: OrgMfaConfig, f: Pick<ScanFlags, "checks" | "excludeChecks">): OrgMfaConfig {
  if (!f.checks && !f.excludeChecks) return config;
  const only = f.checks ? new Set(parseCheckIds("--checks", f.checks)) : null;
  const off = new Set(parseCheckIds("--exclude-checks", f.excludeChecks ?? []));
  const checks: NonNullable<OrgMfaConfig["checks"]> = { ...config.checks };
  for (const id of CHECK_IDS) {
    if ((only && !only.has(id)) || off.has(id)) checks[id] = { ...checks[id], enabled: false };
    else if (only?.has(id)) checks[id] = { ...checks[id], enabled: true };
  }
  return { ...config, checks };
}

/** The config file's parsed content and the SHA-256 of its bytes (recorded in the report). */
export function loadConfig(file: string): { config: OrgMfaConfig; sha256: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(
      `--config: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Pass the path of a JSON config file.`,
    );
  }
  return { config: parseConfigText(text, `--config ${file}`), sha256: sha256Hex(text) };
}

/**
 * The previous scan in --out-dir (its id and findings, read as the file streams in), for "new since
 * last scan". A broken one is ignored, with a warning.
 */
async function previousScan(outDir: string | undefined, warn: (m: string) => void): Promise<PreviousScan | null> {
  if (!outDir) return null;
  const file = path.join(outDir, "report.json");
  if (!existsSync(file)) return null;
  try {
    return await readPreviousScan(createReadStream(file));
  } catch (e) {
    const why = e instanceof ReportSchemaError ? `not a valid orgmfa report (${e.problems[0]})` : (e as Error).message;
    warn(`ignoring previous ${file}: ${why}`);
    return null;
  }
}

const LABEL: Record<DeliveryTarget, string> = { s3: "S3", securityhub: "Security Hub", sns: "SNS" };
const NETWORK = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|socket hang up|TimeoutError/;

/** A message naming the cause and the next step for a failed first call (GetCallerIdentity). */
export async function identityProblem(
  e: unknown,
  f: Pick<ScanFlags, "profile">,
  region: string,
): Promise<string | null> {
  const code = errorCode(e);
  const message = errorMessage(e);
  const profile = f.profile ?? process.env.AWS_PROFILE;
  const endpoint = process.env.AWS_ENDPOINT_URL_STS || process.env.AWS_ENDPOINT_URL;
  if (code === "CredentialsProviderError" || /Could not load credentials|credentials/i.test(message)) {
    if (profile && !(await profileExists(profile).catch(() => true))) {
      const where = f.profile !== undefined ? "--profile" : "AWS_PROFILE";
      return `${where}: profile "${profile}" does not exist. Profiles are read from ${profileFiles()}; list them with \`aws configure list-profiles\`, or create it with \`aws configure --profile ${profile}\` (or \`aws configure sso\`).`;
    }
    if (profile)
      return `Profile "${profile}" has no usable credentials (${message}). For SSO run \`aws sso login --profile ${profile}\`; otherwise check the profile in ${profileFiles()}.`;
    return "No AWS credentials were found. Set AWS_PROFILE (or pass --profile), run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.";
  }
  if (["InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch"].includes(code))
    return `The AWS credentials were refused (${code}). Refresh them (for SSO: aws sso login) and try again.`;
  if (NETWORK.test(`${code} ${message}`)) {
    if (endpoint)
      return `Cannot reach the AWS endpoint ${endpoint} (${code}: ${message}). Check AWS_ENDPOINT_URL, and that the service behind it is running (for the emulator: orgmfa demo --keep-running).`;
    return `Cannot reach AWS STS in ${region} (${code}: ${message}). Check the network or proxy (HTTPS_PROXY) and --region.`;
  }
  return null;
}

/** What the discovery failure means, in the words of the flags the user gave. */
export function discoveryProblem(
  e: DiscoveryError,
  f: ScopeFlags & Pick<ScanFlags, "orgRoleArn">,
  caller: string,
): string {
  if (e instanceof EmptyScopeError) {
    const flagOf = {
      accounts: f.accounts ? "--accounts" : "config accounts",
      excludeAccounts: f.excludeAccounts ? "--exclude-accounts" : "config excludeAccounts",
      ous: f.ou ? "--ou" : "config ous",
      excludeOus: f.excludeOu ? "--exclude-ou" : "config excludeOus",
    };
    return emptyScopeMessage(e.scope, (k) => flagOf[k]);
  }
  if (e.kind === "usage") return e.message;
  const cause = e.cause ? `${errorCode(e.cause)}: ${errorMessage(e.cause)}` : e.message;
  if (e.cause && isCallerCredentialsError(e.cause))
    return `Cannot read the organization: STS refused the credentials orgmfa runs as (${caller}) with ${cause}. They expired or are no longer valid; refresh them (e.g. aws sso login, or new temporary credentials) and run the scan again.`;
  if (f.orgRoleArn)
    return `Cannot read the organization through --org-role-arn ${f.orgRoleArn} (${cause}). Check that the role exists in the management account (the OrgMfaManagement stack, with EnableOrganizationsRead=true), and that it trusts ${caller}.`;
  return `Cannot read the organization as ${caller} (${cause}). Run orgmfa from the management account or a delegated administrator, or pass --org-role-arn with the management account's audit role.`;
}

/**
 * The scan's own credentials expired or were refused part-way: one message, exit 2, and no report —
 * a ledger of "every account ASSUME_ROLE_DENIED" would send people to the member template.
 */
function credentialsProblem(e: ScannerCredentialsError, caller: string, hubsUpdated: number): string {
  const hubs = hubsUpdated
    ? ` The Security Hubs of the ${hubsUpdated} member account(s) scanned before it hold their new findings.`
    : "";
  return `${e.message}. These are the credentials orgmfa runs as (${caller}), not the audit role's: they expired or are no longer valid. Refresh them (e.g. aws sso login, or new temporary credentials) and run the scan again. The scan stopped; no report was written and nothing else was delivered.${hubs}`;
}

/**
 * The bucket and the topic exist (doctor's own checks): one that does not is a usage error naming the
 * flag; one the scanning identity may not inspect is a warning (writing may still be allowed).
 */
async function checkDeliveryTargets(
  pool: ClientPool,
  s3: { bucket: string; prefix: string } | undefined,
  topicArn: string | undefined,
  warn: (m: string) => void,
): Promise<void> {
  const rows = await doctorDelivery(pool, { ...(s3 ? { s3 } : {}), ...(topicArn ? { snsTopicArn: topicArn } : {}) });
  for (const r of rows) {
    const flag = r.check === "S3 bucket" ? "--s3-bucket" : "--sns-topic-arn";
    if (!r.ok && /NoSuchBucket|NotFound/.test(r.detail))
      throw new UsageError(`${flag}: ${r.detail}. ${r.fix ?? ""} Nothing was scanned.`.trim());
    if (!r.ok || r.warning) warn(`${flag}: ${r.detail}${r.fix ? ` ${r.fix}` : ""}`);
  }
}

/** `orgmfa: wrote r.json — 8 users without MFA …; 10 open findings …; exit 4: 1 account not audited`. */
function outcomeLine(report: ScanReport, file: string, exitCode: number): string {
  const head = headlineText(report);
  const why: Record<number, string> = {
    [EXIT.OK]: "exit 0",
    [EXIT.FINDINGS]: "exit 3: open findings at or above --fail-on",
    [EXIT.INCOMPLETE]: `exit 4: ${plural(report.summary.accounts.failed, "account")} not audited (--allow-partial to accept)`,
    [EXIT.ERROR]: "exit 1: a delivery failed (see above)",
  };
  return `orgmfa: wrote ${file} — ${head.users}; ${head.findings}; ${why[exitCode] ?? `exit ${exitCode}`}.`;
}

/** A hint when accounts refused the audit role: usually the role name or the StackSet rollout. */
function assumeRoleHint(report: ScanReport, f: ScanFlags): string | null {
  const denied = report.accounts.filter((a) => a.reason === "ASSUME_ROLE_DENIED");
  if (denied.length === 0) return null;
  const all = denied.length === report.summary.accounts.inScope;
  const which = all
    ? `every in-scope account (${denied.length})`
    : `${denied.length} of ${report.summary.accounts.inScope} accounts`;
  return `${which} refused AssumeRole of role ${f.roleName}. Check that --role-name matches the member StackSet's AuditRoleName (default OrgMfaAuditRole), that the StackSet has reached ${all ? "these accounts" : "them"} (their OUs are targets), and that the role trusts this scanner identity.`;
}

/**
 * Every target of the scan, known from the start, and what has landed in each; an interrupted or
 * failed scan says it, so nothing is lost without a word. Member accounts' hubs receive their
 * findings during the scan, so they are counted as they land.
 */
class DeliveryLedger {
  phase = "starting";
  private readonly targets = new Map<string, { landed: boolean; detail: string | null }>();
  s3Objects: { written: number; total: number } | null = null;
  s3Prefix: string | null = null;

  expect(what: string): void {
    if (!this.targets.has(what)) this.targets.set(what, { landed: false, detail: null });
  }
  /** Part of the target has landed (e.g. some member hubs): said as delivered so far. */
  partly(what: string, detail: string): void {
    this.targets.set(what, { landed: false, detail });
  }
  landed(what: string, detail = what): void {
    this.targets.set(what, { landed: true, detail });
  }
  summary(): string {
    const done: string[] = [];
    const notYet: string[] = [];
    for (const [name, t] of this.targets) {
      if (t.landed) done.push(t.detail ?? name);
      else if (t.detail) done.push(`${t.detail} (so far)`);
      if (t.landed) continue;
      if (name === S3_TARGET && this.s3Objects)
        notYet.push(
          `S3 (${this.s3Objects.written} of ${this.s3Objects.total} objects written${this.s3Prefix ? ` under ${this.s3Prefix}` : ""}; without manifest.json that scan folder is incomplete and latest/ may be partly updated)`,
        );
      else if (name === MEMBER_HUBS)
        notYet.push(t.detail ? "Security Hub in the member accounts not yet scanned" : name);
      else notYet.push(name);
    }
    return `Delivered: ${done.length ? done.join("; ") : "nothing"}. Not delivered: ${notYet.length ? notYet.join("; ") : "nothing"}.`;
  }
}

const S3_TARGET = "S3";
const MEMBER_HUBS = "Security Hub in the member accounts";
const SCANNING_HUB = "Security Hub in the scanning account";

/** Stops the command on SIGINT/SIGTERM/SIGHUP, saying what was and was not delivered. */
function onSignals(io: Io, stop: (signal: NodeJS.Signals) => void): () => void {
  if (!io.handleSignals) return () => undefined;
  const source = io.signals ?? process;
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) source.once(s, stop);
  return () => {
    for (const s of signals) source.removeListener(s, stop);
  };
}

const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

/**
 * `orgmfa scan`: discover, scan, evaluate, aggregate, then write the chosen format and the files.
 * Returns the exit code of CONTRACT.md. Every flag and output path is checked before the first
 * AWS call; a reader that closes stdout early costs nothing but that output.
 */
/** The region the flags or the standard chain give; a usage error naming the ways to set one otherwise. */
export async function regionOf(flags: Pick<ScanFlags, "region" | "profile">): Promise<string> {
  const region = flags.region || (await resolveRegion(flags.profile));
  if (!region)
    throw new UsageError(
      "No AWS region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION, or region in your profile).",
    );
  return region;
}

/** The discovery filters the scope flags give (scan, doctor and enforce alike). */
export function scopeOf(flags: ScopeFlags): DiscoveryFilters {
  return {
    accounts: flags.accounts,
    excludeAccounts: flags.excludeAccounts,
    ous: flags.ou,
    excludeOus: flags.excludeOu,
  };
}

type ScopeFlags = Pick<ScanFlags, "accounts" | "excludeAccounts" | "ou" | "excludeOu">;

/** The identity and scope flags every command that reads the organization takes (main.ts's withIdentityAndScope), and --config. */
export type IdentityAndScopeFlags = ScopeFlags &
  Pick<ScanFlags, "profile" | "region" | "roleName" | "externalId" | "orgRoleArn" | "config" | "concurrency">;

/**
 * Who the credentials are (the first call of scan, doctor and enforce); a failure with a known cause
 * becomes a UsageError that names it and the next step.
 */
export async function callerOf(
  pool: ClientPool,
  flags: Pick<ScanFlags, "profile">,
  region: string,
): Promise<{ account: string; arn: string }> {
  try {
    return await pool.whoAmI();
  } catch (e) {
    const problem = await identityProblem(e, flags, region);
    if (problem) throw new UsageError(problem);
    throw e;
  }
}

/** A config warning as stderr says it, naming the --config file when there is one. */
export const configWarningLine = (flags: Pick<ScanFlags, "config">, w: { field: string; message: string }) =>
  `${flags.config ? `--config ${flags.config}: ` : ""}${w.field}: ${w.message}`;

/** The client pool of the scanning identity the flags describe (scan and doctor alike). */
export function poolOf(
  flags: Pick<ScanFlags, "roleName" | "externalId" | "orgRoleArn" | "profile">,
  region: string,
  credentials?: AwsCredentialIdentityProvider,
): ClientPool {
  return new ClientPool({
    region,
    roleName: flags.roleName,
    externalId: flags.externalId,
    orgRoleArn: flags.orgRoleArn,
    profile: flags.profile,
    baseCredentials: credentials,
  });
}

export async function runScanCommand(
  flags: ScanFlags,
  io: ScanIo,
): Promise<{ exitCode: number; report: ScanReport; delivery: PublishResult | null }> {
  const { out, err } = sinks(io);
  const log = makeLog(err, flags.logLevel ?? (flags.quiet ? "error" : "warn"));
  tuneHeapForScan();
  validateFlags(flags);
  checkEndpointEnv();
  const format = resolveFormat(flags.format, flags.output, "table");
  const outputFile = flags.output && flags.output !== "-" ? flags.output : undefined;
  if (outputFile) checkOutputFile(outputFile);
  if (flags.outDir) prepareOutDir(flags.outDir);
  const loaded = flags.config
    ? loadConfig(flags.config)
    : { config: io.defaultConfig ?? {}, sha256: io.defaultConfig ? sha256Hex(JSON.stringify(io.defaultConfig)) : null };
  const config = {
    ...applyCheckFlags(loaded.config, flags),
    ...(flags.completeInventory ? { completeInventory: true } : {}),
  };
  const region = await regionOf(flags);
  const progress = new Progress(err, {
    live: err.isTTY && !flags.quiet,
    periodic: flags.progress === true && !err.isTTY,
  });
  const say = (m: string) => {
    progress.end();
    if (log.level === "info" || log.level === "debug" || (err.isTTY && !flags.quiet)) err.write(`${m}\n`);
  };

  const pool = poolOf(flags, region, io.credentials);
  const ledger = new DeliveryLedger();
  // Every target, from the start: what an interruption at any moment has and has not delivered.
  ledger.expect(outputFile ? `--output ${outputFile}` : "stdout");
  if (flags.outDir) ledger.expect(`--out-dir ${flags.outDir}`);
  if (flags.s3Bucket) ledger.expect(S3_TARGET);
  if (flags.securityHub) {
    ledger.expect(MEMBER_HUBS);
    ledger.expect(SCANNING_HUB);
  }
  if (flags.snsTopicArn) ledger.expect("SNS digest");
  const stopSignals = onSignals(io, (signal) => {
    progress.end();
    pool.destroy();
    log.error(`interrupted by ${signal} while ${ledger.phase}. ${ledger.summary()}`);
    (io.exit ?? process.exit)(SIGNAL_EXIT[signal] ?? 1);
  });
  try {
    ledger.phase = "checking the credentials";
    const caller = await callerOf(pool, flags, region);
    log.debug(`scanning as ${caller.arn} in ${region}`);
    const s3 = flags.s3Bucket
      ? { bucket: flags.s3Bucket, prefix: flags.s3Prefix ?? DEFAULT_S3_PREFIX, kmsKeyId: config.s3KmsKeyId }
      : undefined;
    // The bucket and the topic are checked before the first account: a wrong name found after a scan
    // of the whole organization costs the scan.
    if (s3 || flags.snsTopicArn) {
      ledger.phase = "checking the delivery targets";
      await checkDeliveryTargets(pool, s3, flags.snsTopicArn, log.warn);
    }
    let previous: PreviousScan | null;
    if (s3) {
      const latest = await loadLatestScan(pool.s3(), s3);
      if (latest.warning) log.warn(latest.warning);
      previous = latest.previous;
    } else previous = await previousScan(flags.outDir, log.warn);
    let report: ScanReport;
    ledger.phase = "scanning";
    // Member accounts' hubs get their findings as each account ends (as the workflow's ScanBatch
    // does); the scanning account's hub, with the coverage findings, in the delivery phase below.
    const memberHubs = { imported: 0, archived: 0, hubs: 0, delivered: 0 };
    const hubUndelivered: Array<{ target: "securityhub"; message: string }> = [];
    try {
      report = await runScan({
        pool,
        config,
        filters: scopeOf(flags),
        concurrency: flags.concurrency,
        accountTimeoutMs: io.accountTimeoutMs,
        collect: {
          ...(flags.maxReportAge !== undefined ? { maxReportAgeMs: flags.maxReportAge } : {}),
          ...(flags.perAccountConcurrency !== undefined ? { userConcurrency: flags.perAccountConcurrency } : {}),
        },
        toolVersion: VERSION,
        previous,
        run: { callerArn: caller.arn, configSha256: loaded.sha256 },
        onPhase: say,
        onWarning: (w) => log.warn(configWarningLine(flags, w)),
        onAccountDone: (o, done, total) => {
          progress.account(done, total, o.kind === "failure");
          if (o.kind === "failure")
            log.debug(`${o.accountId}: FAILED ${o.reason} (${o.error.code}: ${o.error.message})`);
        },
        ...(flags.securityHub
          ? {
              securityHub: { region, scanningAccountId: caller.account },
              onHubDelivered: (hub) => {
                memberHubs.hubs++;
                memberHubs.imported += hub.imported;
                memberHubs.archived += hub.archived;
                if (hubProblems(hub).length === 0) memberHubs.delivered++;
                ledger.partly(MEMBER_HUBS, `Security Hub in ${plural(memberHubs.delivered, "member account")}`);
                log.debug(`Security Hub of ${hub.accountId}: ${hub.imported} imported, ${hub.archived} archived`);
                // The account stays audited (its findings are in the report, with a note); the hub
                // that refused is a delivery that failed (exit 1), said once the scan is over.
                hubUndelivered.push(...hubProblems(hub));
              },
            }
          : {}),
      });
    } catch (e) {
      if (e instanceof DiscoveryError) throw new UsageError(discoveryProblem(e, flags, caller.arn));
      if (e instanceof ScannerCredentialsError)
        throw new UsageError(credentialsProblem(e, caller.arn, memberHubs.hubs));
      throw e;
    }
    progress.end();
    if (flags.securityHub)
      ledger.landed(MEMBER_HUBS, `Security Hub in ${plural(memberHubs.delivered, "member account")}`);
    // Every account refusing the role is almost always a wrong --role-name or a StackSet not rolled
    // out: a warning. Some accounts refusing is in the ledger and the exit code already: info.
    const hint = assumeRoleHint(report, flags);
    if (hint) (hint.startsWith("every") ? log.warn : log.info)(hint);

    // Every output is independent: one that fails (or a reader that left) costs none of the others.
    const problems: string[] = [];
    ledger.phase = "writing the report";
    // Every output is written a piece at a time as it is rendered: never the whole report as one string.
    const pieces = renderChunks(report, format, {
      color: colorFor(io.stdout, flags.color) && !outputFile,
      asff: { region, scanningAccountId: caller.account },
    });
    if (outputFile) {
      try {
        await pipeline(Readable.from(pieces), createWriteStream(outputFile));
        ledger.landed(`--output ${outputFile}`);
      } catch (e) {
        problems.push(`--output ${outputFile}: ${errorMessage(e)}`);
      }
    } else {
      await out.writeAll(pieces);
      ledger.landed("stdout", out.closed ? "stdout (its reader closed early)" : "stdout");
    }
    // S3 gets the very bytes of --out-dir when those were written; otherwise it renders them itself.
    let filesDir: string | undefined;
    if (flags.outDir) {
      try {
        const written = await writeScanDir(flags.outDir, report);
        const names = [...written.map((d) => d.name), "manifest.json"];
        filesDir = flags.outDir;
        ledger.landed(`--out-dir ${flags.outDir}`, `${names.length} files in ${flags.outDir}`);
        say(`wrote ${names.join(", ")} to ${flags.outDir}`);
      } catch (e) {
        problems.push(`--out-dir ${flags.outDir}: ${errorMessage(e)}`);
      }
    }

    const targets: PublishTargets = {
      ...(s3 ? { s3 } : {}),
      ...(flags.securityHub
        ? { securityHub: { region, scanningAccountId: caller.account, hubs: [caller.account] } }
        : {}),
      ...(flags.snsTopicArn
        ? { sns: { topicArn: flags.snsTopicArn, perAccountMessages: config.snsPerAccountMessages ?? false } }
        : {}),
    };
    let delivery: PublishResult | null = null;
    if (targets.s3 || targets.securityHub || targets.sns) {
      ledger.phase = "delivering";
      if (s3) ledger.s3Prefix = `s3://${s3.bucket}/${s3.prefix}/`;
      delivery = await publishReport(pool, report, targets, {
        policy: policyFromConfig(config),
        ...(filesDir ? { filesDir } : {}),
        earlierProblems: hubUndelivered,
        localReportLocation: flags.outDir ? path.resolve(flags.outDir, "report.html") : null,
        onPhase: (m) => {
          ledger.phase = m;
          say(m);
        },
        onProgress: (p) => {
          if (p.objects) ledger.s3Objects = p.objects;
          const name = { s3: S3_TARGET, securityhub: SCANNING_HUB, sns: "SNS digest" }[p.target];
          if (p.done) ledger.landed(name);
        },
      });
      if (delivery.s3) say(`report stored at ${delivery.s3.scanUri} (and ${delivery.s3.latestUri})`);
      if (delivery.securityHub)
        say(
          `Security Hub: ${memberHubs.imported + delivery.securityHub.imported} imported, ${memberHubs.archived + delivery.securityHub.archived} archived in ${memberHubs.hubs + delivery.securityHub.hubs.length} accounts`,
        );
      if (delivery.sns) say(`digest published (${delivery.sns.accountMessages} account messages)`);
      for (const p of [...hubUndelivered, ...delivery.problems])
        problems.push(`delivery to ${LABEL[p.target]} failed: ${p.message}`);
    }
    // Errors show even with --quiet.
    for (const p of problems) log.error(p);
    const exitCode = problems.length ? EXIT.ERROR : exitCodeFor(report, flags.failOn, flags.allowPartial);
    // The report went to a file: on a terminal, one line says what it holds and why the exit code.
    if (outputFile && err.isTTY && !flags.quiet) err.write(`${outcomeLine(report, outputFile, exitCode)}\n`);
    return { exitCode, report, delivery };
  } finally {
    stopSignals();
    pool.destroy();
  }
}
