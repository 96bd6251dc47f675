import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  ClientPool,
  DiscoveryError,
  loadLatestReport,
  type PublishResult,
  type PublishTargets,
  publishReport,
  resolveRegion,
  runScan,
} from "@orgmfa/aws";
import {
  ConfigError,
  EXIT,
  exitCodeFor,
  type FailOn,
  type OrgMfaConfig,
  parseConfigText,
  parseReportJson,
  policyFromConfig,
  ReportSchemaError,
  type ScanReport,
  SEVERITIES,
  scanFiles,
} from "@orgmfa/core";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { UsageError } from "./errors";
import { FORMATS, type Format, render } from "./render";
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
  format: Format;
  output?: string;
  outDir?: string;
  s3Bucket?: string;
  s3Prefix?: string;
  securityHub?: boolean;
  snsTopicArn?: string;
  failOn: FailOn;
  allowPartial: boolean;
  quiet: boolean;
  color: boolean;
}

export interface ScanIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Base credentials instead of the standard chain (the demo). */
  credentials?: AwsCredentialIdentityProvider;
  /** A config used when no --config is given (the demo). */
  defaultConfig?: OrgMfaConfig;
  /** Per-account time limit. */
  accountTimeoutMs?: number;
}

const ACCOUNT_ID = /^\d{12}$/;
const OU_ID = /^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const BUCKET = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?$/;
/** The default `--s3-prefix`. */
export const DEFAULT_S3_PREFIX = "orgmfa";

/** Checks every flag before anything touches AWS; each message names the flag. */
export function validateFlags(f: ScanFlags): void {
  const ids = (flag: string, list: string[] | undefined, re: RegExp, what: string) => {
    for (const id of list ?? []) if (!re.test(id)) throw new UsageError(`${flag}: "${id}" is not ${what}`);
  };
  ids("--accounts", f.accounts, ACCOUNT_ID, "a 12-digit account id");
  ids("--exclude-accounts", f.excludeAccounts, ACCOUNT_ID, "a 12-digit account id");
  ids("--ou", f.ou, OU_ID, "an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)");
  ids("--exclude-ou", f.excludeOu, OU_ID, "an OU id (ou-xxxx-xxxxxxxx) or root id (r-xxxx)");
  if (!Number.isInteger(f.concurrency) || f.concurrency < 1 || f.concurrency > 256) {
    throw new UsageError(`--concurrency: "${f.concurrency}" must be a whole number from 1 to 256`);
  }
  if (!FORMATS.includes(f.format)) throw new UsageError(`--format: "${f.format}" must be one of ${FORMATS.join(", ")}`);
  if (f.failOn !== "none" && !SEVERITIES.includes(f.failOn)) {
    throw new UsageError(`--fail-on: "${f.failOn}" must be one of ${[...SEVERITIES.slice(0, 4), "none"].join(", ")}`);
  }
  if (f.orgRoleArn && !ROLE_ARN.test(f.orgRoleArn))
    throw new UsageError(`--org-role-arn: "${f.orgRoleArn}" is not an IAM role ARN`);
  if (!/^[\w+=,.@-]{1,64}$/.test(f.roleName))
    throw new UsageError(`--role-name: "${f.roleName}" is not an IAM role name`);
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
}

function loadConfig(file: string): OrgMfaConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(
      `--config: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Pass the path of a JSON config file.`,
    );
  }
  return parseConfigText(text, `--config ${file}`);
}

/** The previous report in --out-dir, for "new since last scan". A broken one is ignored, with a warning. */
function previousReport(outDir: string | undefined, warn: (m: string) => void): ScanReport | null {
  if (!outDir) return null;
  const file = path.join(outDir, "report.json");
  if (!existsSync(file)) return null;
  try {
    return parseReportJson(readFileSync(file, "utf8"));
  } catch (e) {
    const why = e instanceof ReportSchemaError ? `not a valid orgmfa report (${e.problems[0]})` : (e as Error).message;
    warn(`ignoring previous ${file}: ${why}`);
    return null;
  }
}

const LABEL = { s3: "S3", securityhub: "Security Hub", sns: "SNS" } as const;

function credentialsHint(e: unknown): string | null {
  const name = (e as { name?: string }).name ?? "";
  if (
    name === "CredentialsProviderError" ||
    /Could not load credentials|credentials/i.test((e as Error).message ?? "")
  ) {
    return "No usable AWS credentials. Set AWS_PROFILE (or pass --profile), run `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.";
  }
  if (name === "InvalidClientTokenId" || name === "ExpiredToken" || name === "SignatureDoesNotMatch") {
    return `The AWS credentials were refused (${name}). Refresh them (for SSO: aws sso login) and try again.`;
  }
  return null;
}

/**
 * `orgmfa scan`: discover, scan, evaluate, aggregate, then write the chosen format and the files.
 * Returns the exit code of CONTRACT.md.
 */
export async function runScanCommand(
  flags: ScanFlags,
  io: ScanIo,
): Promise<{ exitCode: number; report: ScanReport; delivery: PublishResult | null }> {
  validateFlags(flags);
  const config = flags.config ? loadConfig(flags.config) : (io.defaultConfig ?? {});
  const region = flags.region || (await resolveRegion(flags.profile));
  if (!region)
    throw new UsageError(
      "No AWS region: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION, or region in your profile).",
    );
  const progress = io.stderr.isTTY === true && !flags.quiet;
  const say = (m: string) => {
    if (progress) io.stderr.write(`${m}\n`);
  };
  const warn = (m: string) => {
    if (!flags.quiet) io.stderr.write(`warning: ${m}\n`);
  };

  const pool = new ClientPool({
    region,
    roleName: flags.roleName,
    externalId: flags.externalId,
    orgRoleArn: flags.orgRoleArn,
    profile: flags.profile,
    baseCredentials: io.credentials,
  });
  try {
    let scanningAccountId: string;
    try {
      scanningAccountId = (await pool.whoAmI()).account;
    } catch (e) {
      const hint = credentialsHint(e);
      if (hint) throw new UsageError(hint);
      throw e;
    }
    const s3 = flags.s3Bucket
      ? { bucket: flags.s3Bucket, prefix: flags.s3Prefix ?? DEFAULT_S3_PREFIX, kmsKeyId: config.s3KmsKeyId }
      : undefined;
    let previous: ScanReport | null;
    if (s3) {
      const latest = await loadLatestReport(pool.s3(), s3);
      if (latest.warning) warn(latest.warning);
      previous = latest.report;
    } else previous = previousReport(flags.outDir, warn);
    let report: ScanReport;
    try {
      report = await runScan({
        pool,
        config,
        filters: {
          accounts: flags.accounts,
          excludeAccounts: flags.excludeAccounts,
          ous: flags.ou,
          excludeOus: flags.excludeOu,
        },
        concurrency: flags.concurrency,
        accountTimeoutMs: io.accountTimeoutMs,
        toolVersion: VERSION,
        previous,
        onPhase: say,
        onAccountDone: (o, done, total) =>
          say(`  [${done}/${total}] ${o.accountId} ${o.kind === "facts" ? "audited" : `FAILED ${o.reason}`}`),
      });
    } catch (e) {
      if (e instanceof DiscoveryError && e.kind === "usage") throw new UsageError(e.message);
      throw e;
    }

    const out = render(report, flags.format, {
      color: flags.color && !flags.output && (io.stdout as { isTTY?: boolean }).isTTY === true,
      asff: { region, scanningAccountId },
    });
    if (flags.output && flags.output !== "-") writeFileSync(flags.output, out);
    else io.stdout.write(out);
    // Local files first: whatever happens to the deliveries below, nothing is lost.
    const files = flags.outDir || s3 ? scanFiles(report) : undefined;
    if (flags.outDir && files) {
      mkdirSync(flags.outDir, { recursive: true });
      for (const [name, content] of Object.entries(files)) writeFileSync(path.join(flags.outDir, name), content);
      say(`wrote ${Object.keys(files).join(", ")} to ${flags.outDir}`);
    }

    const targets: PublishTargets = {
      ...(s3 ? { s3 } : {}),
      ...(flags.securityHub ? { securityHub: { region, scanningAccountId } } : {}),
      ...(flags.snsTopicArn
        ? { sns: { topicArn: flags.snsTopicArn, perAccountMessages: config.snsPerAccountMessages ?? false } }
        : {}),
    };
    let delivery: PublishResult | null = null;
    if (targets.s3 || targets.securityHub || targets.sns) {
      delivery = await publishReport(pool, report, targets, {
        policy: policyFromConfig(config),
        files,
        localReportLocation: flags.outDir ? path.resolve(flags.outDir, "report.html") : null,
        onPhase: say,
      });
      if (delivery.s3) say(`report stored at ${delivery.s3.scanUri} (and ${delivery.s3.latestUri})`);
      if (delivery.securityHub)
        say(
          `Security Hub: ${delivery.securityHub.imported} imported, ${delivery.securityHub.archived} archived in ${delivery.securityHub.hubs.length} accounts`,
        );
      if (delivery.sns) say(`digest published (${delivery.sns.accountMessages} account messages)`);
      // Delivery problems are errors: shown even with --quiet.
      for (const p of delivery.problems)
        io.stderr.write(`orgmfa: delivery to ${LABEL[p.target]} failed: ${p.message}\n`);
    }
    const exitCode = delivery?.problems.length ? EXIT.ERROR : exitCodeFor(report, flags.failOn, flags.allowPartial);
    return { exitCode, report, delivery };
  } finally {
    pool.destroy();
  }
}
