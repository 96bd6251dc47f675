import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ClientPool, DiscoveryError, resolveRegion, runScan } from "@orgmfa/aws";
import {
  ConfigError,
  exitCodeFor,
  type FailOn,
  type OrgMfaConfig,
  parseConfigText,
  reportProblems,
  type ScanReport,
  SEVERITIES,
} from "@orgmfa/core";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { UsageError } from "./errors";
import { FORMATS, type Format, render, reportFiles } from "./render";
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
    const doc = JSON.parse(readFileSync(file, "utf8")) as unknown;
    const problems = reportProblems(doc);
    if (problems.length === 0) return doc as ScanReport;
    warn(`ignoring previous ${file}: it is not a valid orgmfa report (${problems[0]})`);
  } catch (e) {
    warn(`ignoring previous ${file}: ${(e as Error).message}`);
  }
  return null;
}

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
export async function runScanCommand(flags: ScanFlags, io: ScanIo): Promise<{ exitCode: number; report: ScanReport }> {
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
    try {
      await pool.whoAmI();
    } catch (e) {
      const hint = credentialsHint(e);
      if (hint) throw new UsageError(hint);
      throw e;
    }
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
        previous: previousReport(flags.outDir, warn),
        onPhase: say,
        onAccountDone: (o, done, total) =>
          say(`  [${done}/${total}] ${o.accountId} ${o.kind === "facts" ? "audited" : `FAILED ${o.reason}`}`),
      });
    } catch (e) {
      if (e instanceof DiscoveryError && e.kind === "usage") throw new UsageError(e.message);
      throw e;
    }

    const out = render(
      report,
      flags.format,
      flags.color && !flags.output && (io.stdout as { isTTY?: boolean }).isTTY === true,
    );
    if (flags.output && flags.output !== "-") writeFileSync(flags.output, out);
    else io.stdout.write(out);
    if (flags.outDir) {
      mkdirSync(flags.outDir, { recursive: true });
      const files = reportFiles(report);
      for (const [name, content] of Object.entries(files)) writeFileSync(path.join(flags.outDir, name), content);
      say(`wrote ${Object.keys(files).join(", ")} to ${flags.outDir}`);
    }
    return { exitCode: exitCodeFor(report, flags.failOn, flags.allowPartial), report };
  } finally {
    pool.destroy();
  }
}
