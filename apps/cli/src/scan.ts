import { createReadStream, createWriteStream, existsSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type ClientPool,
  type DeliveryTarget,
  doctorDelivery,
  errorMessage,
  hubProblems,
  loadLatestScan,
  type PublishResult,
  type PublishTargets,
  publishReport,
  runScan,
  tuneHeapForScan,
} from "@orgmfa/aws";
import {
  type CheckId,
  EXIT,
  exitCodeFor,
  type FailOn,
  headlineText,
  type OrgMfaConfig,
  type PreviousScan,
  plural,
  policyFromConfig,
  ReportSchemaError,
  readPreviousScan,
  type ScanReport,
} from "@orgmfa/core";
import { sha256Hex, writeScanDir } from "@orgmfa/render";
import { applyCheckFlags, configWarningLine, loadConfig, scopeOf } from "./config";
import { type ContextIo, withCommandContext } from "./context";
import { UsageError } from "./errors";
import type { IdentityAndScopeFlags } from "./flags";
import { colorFor, type LogLevel, makeLog, sinks } from "./io";
import { DeliveryLedger, MEMBER_HUBS, onSignals, S3_TARGET, SCANNING_HUB, SIGNAL_EXIT } from "./ledger";
import { DEFAULT_S3_PREFIX } from "./options";
import { checkOutputFile, prepareOutDir, resolveFormat } from "./outputs";
import { Progress } from "./progress";
import { type Format, renderChunks } from "./render";
import { VERSION } from "./version";

/** The flags of `orgmfa scan` (main.ts declares and validates them; docs/usage.md describes them). */
export interface ScanFlags extends IdentityAndScopeFlags {
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
  checks?: CheckId[];
  excludeChecks?: CheckId[];
  /** List every user's devices (config `completeInventory`). */
  completeInventory?: boolean;
  /** Read member roots through sts:AssumeRoot (config `assumeRoot`). */
  assumeRoot?: boolean;
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

export interface ScanIo extends ContextIo {
  /** A config used when no --config is given (the demo). */
  defaultConfig?: OrgMfaConfig;
  /** Per-account time limit. */
  accountTimeoutMs?: number;
}

const LABEL: Record<DeliveryTarget, string> = { s3: "S3", securityhub: "Security Hub", sns: "SNS" };

/**
 * `orgmfa scan`: discover, scan, evaluate, aggregate, then write the chosen format and the files.
 * Returns the exit code docs/usage.md ("Exit codes") lists. Every output path is checked before the
 * first AWS call; a reader that closes stdout early costs nothing but that output.
 */
export async function runScanCommand(
  flags: ScanFlags,
  io: ScanIo,
): Promise<{ exitCode: number; report: ScanReport; delivery: PublishResult | null }> {
  const { out, err } = sinks(io);
  const log = makeLog(err, flags.logLevel ?? (flags.quiet ? "error" : "warn"));
  tuneHeapForScan();
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
    ...(flags.assumeRoot ? { assumeRoot: true } : {}),
  };
  // Member accounts' hubs get their findings as each account ends (as the workflow's ScanBatch
  // does); the scanning account's hub, with the coverage findings, in the delivery phase.
  const memberHubs = { imported: 0, archived: 0, hubs: 0, delivered: 0 };
  const alreadyDone = () =>
    memberHubs.hubs
      ? `The Security Hubs of the ${memberHubs.hubs} member account(s) scanned before it hold their new findings.`
      : "";

  return withCommandContext(
    flags,
    io,
    async ({ region, pool, caller: callerOf, close }) => {
      const progress = new Progress(err, {
        live: err.isTTY && !flags.quiet,
        periodic: flags.progress === true && !err.isTTY,
      });
      const say = (m: string) => {
        progress.end();
        if (log.level === "info" || log.level === "debug" || (err.isTTY && !flags.quiet)) err.write(`${m}\n`);
      };
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
        close();
        log.error(`interrupted by ${signal} while ${ledger.phase}. ${ledger.summary()}`);
        (io.exit ?? process.exit)(SIGNAL_EXIT[signal] ?? 1);
      });
      try {
        ledger.phase = "checking the credentials";
        const caller = await callerOf();
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
        ledger.phase = "scanning";
        const hubUndelivered: Array<{ target: "securityhub"; message: string }> = [];
        // A DiscoveryError (the organization cannot be read, nothing in scope) or the scan's own
        // credentials failing part-way end the command here: the context says why, exit 2.
        const report = await runScan({
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
      }
    },
    { alreadyDone },
  );
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
function assumeRoleHint(report: ScanReport, f: Pick<ScanFlags, "roleName">): string | null {
  const denied = report.accounts.filter((a) => a.reason === "ASSUME_ROLE_DENIED");
  if (denied.length === 0) return null;
  const all = denied.length === report.summary.accounts.inScope;
  const which = all
    ? `every in-scope account (${denied.length})`
    : `${denied.length} of ${report.summary.accounts.inScope} accounts`;
  return `${which} refused AssumeRole of role ${f.roleName}. Check that --role-name matches the member StackSet's AuditRoleName (default OrgMfaAuditRole), that the StackSet has reached ${all ? "these accounts" : "them"} (their OUs are targets), and that the role trusts this scanner identity.`;
}
