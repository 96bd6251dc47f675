import { createReadStream, existsSync } from "node:fs";
import {
  type AppliedDecision,
  decisionOutcome,
  runScan,
  type SweepAccount,
  type SweepSummary,
  summarizeSweep,
  sweepQuarantine,
} from "@orgmfa/aws";
import {
  type AccountTarget,
  DEFAULT_ENFORCER_ROLE,
  EXIT,
  type OrgMfaConfig,
  type PreviousScan,
  plural,
  ReportSchemaError,
  readPreviousScan,
  usersWithoutMfa,
} from "@orgmfa/core";
import Table from "cli-table3";
import pc from "picocolors";
import { configWarningLine, loadConfig, scopeOf } from "./config";
import { type ContextIo, withCommandContext } from "./context";
import { UsageError } from "./errors";
import type { IdentityAndScopeFlags } from "./flags";
import { colorFor, type LogLevel, makeLog, sinks } from "./io";
import { VERSION } from "./version";

export interface EnforceFlags extends IdentityAndScopeFlags {
  /** @default "warn" ("error" with --quiet) */
  logLevel?: LogLevel;
  quiet?: boolean;
  /** Make the changes; without it, only the plan. */
  apply: boolean;
  /** The member enforcer role; else the config's `quarantine.roleName`, else OrgMfaQuarantineRole. */
  enforcerRoleName?: string;
  format?: "table" | "json";
  color?: boolean;
  /** The previous scan's report.json: enrolment deadlines carry over from its first-found dates. */
  previous?: string;
}

/** What `orgmfa enforce` prints with `--format json`. */
export interface EnforcePlan {
  apply: boolean;
  scanId: string;
  /** accountsNotReconciled includes the in-scope accounts the scan could not audit. */
  summary: SweepSummary;
  accounts: SweepAccount[];
  decisions: AppliedDecision[];
  /** The in-scope accounts the scan could not audit: not reconciled either, and named. */
  notAudited: Array<{ accountId: string; accountName: string; reason: string; error: string | null }>;
}

/**
 * The report `--previous` names (its scan id, start and findings with their first-found dates). A
 * file that is missing or not an orgmfa report is a usage error naming the flag.
 */
async function readPrevious(file: string): Promise<PreviousScan> {
  if (!existsSync(file)) throw new UsageError(`--previous ${file}: no such file (a report.json of an earlier scan)`);
  try {
    return await readPreviousScan(createReadStream(file));
  } catch (e) {
    const why = e instanceof ReportSchemaError ? `not a valid orgmfa report (${e.problems[0]})` : (e as Error).message;
    throw new UsageError(`--previous ${file}: ${why}`);
  }
}

/**
 * `orgmfa enforce [--apply]`: the quarantine sweep over the organization. The same discovery, scope and
 * scan as `orgmfa scan` (the audit roles) find the console users without MFA; each of them, and each
 * user quarantined now, is read live through the member enforcer role and decided by the config's
 * `quarantine` (mode by OU, grace, exemptions). Without --apply nothing changes: the plan is printed.
 * Exit 0: nothing left to do; 3: changes pending (dry run, `notify`); 4: an in-scope account not
 * reconciled or a change that failed; 2: bad input; 1: anything else.
 */
export async function runEnforceCommand(flags: EnforceFlags, io: ContextIo): Promise<number> {
  const { out, err } = sinks(io);
  const log = makeLog(err, flags.logLevel ?? (flags.quiet ? "error" : "warn"));
  const loaded: { config: OrgMfaConfig; sha256: string | null } = flags.config
    ? loadConfig(flags.config)
    : { config: {}, sha256: null };
  const config = loaded.config;
  const previous = flags.previous ? await readPrevious(flags.previous) : null;
  return withCommandContext(flags, io, async ({ pool, poolFor, caller: callerOf }) => {
    const enforcers = poolFor(flags.enforcerRoleName ?? config.quarantine?.roleName ?? DEFAULT_ENFORCER_ROLE);
    const caller = await callerOf();
    if (!config.quarantine)
      log.warn(
        `${flags.config ? `--config ${flags.config}` : "no --config"}: no "quarantine" section, so quarantine is off everywhere; the sweep only releases whoever is still quarantined.`,
      );
    let targets: AccountTarget[] = [];
    // Organizations that cannot be read, a scope left empty or this identity's credentials failing part-way
    // end the command: the context says why (exit 2).
    const report = await runScan({
      pool,
      config,
      // The previous scan's report: its gaps' first-found dates, so enrolment deadlines carry over.
      previous,
      filters: scopeOf(flags),
      concurrency: flags.concurrency,
      toolVersion: VERSION,
      run: { callerArn: caller.arn, configSha256: loaded.sha256 },
      onDiscovered: (d) => {
        targets = d.targets;
      },
      onWarning: (w) => log.warn(configWarningLine(flags, w)),
    });
    // Who the scan found with a console password and no MFA, by audited account (exempted or not: the sweep decides).
    const without = usersWithoutMfa(report);
    const found = without.console;
    const sweep = await sweepQuarantine(
      enforcers,
      targets.filter((t) => t.accountId in found),
      new Map(Object.entries(found)),
      {
        quarantine: config.quarantine,
        exemptions: config.exemptions,
        now: new Date(),
        enrolBy: without.enrolBy,
        apply: flags.apply,
        partition: pool.partition,
        concurrency: flags.concurrency,
      },
    );
    const summary = summarizeSweep(sweep);
    const plan: EnforcePlan = {
      apply: flags.apply,
      scanId: report.scanId,
      // The accounts the scan could not audit are not reconciled either.
      summary: { ...summary, accountsNotReconciled: report.summary.accounts.failed + summary.accountsNotReconciled },
      accounts: sweep.accounts,
      decisions: sweep.decisions,
      notAudited: report.accounts
        .filter((a) => a.status === "FAILED")
        .map((a) => ({
          accountId: a.accountId,
          accountName: a.accountName,
          reason: a.reason ?? "ERROR",
          error: a.error ? `${a.error.code}: ${a.error.message}` : null,
        })),
    };
    for (const a of sweep.accounts)
      if (a.status !== "reconciled")
        (a.mode === "off" ? log.info : log.warn)(`${a.accountName} (${a.accountId}): ${a.error?.message}`);
    if (flags.format === "json") out.write(`${JSON.stringify(plan, null, 2)}\n`);
    else
      out.write(
        renderPlan(
          plan,
          colorFor(io.stdout, flags.color !== false),
          (io.stdout as { columns?: number }).columns ?? 120,
        ),
      );
    const s = plan.summary;
    if (s.accountsNotReconciled > 0 || s.failed > 0) return EXIT.INCOMPLETE;
    return s.pending > 0 ? EXIT.FINDINGS : EXIT.OK;
  });
}

/** The plan as a table: every change made, planned or failed (users already right are only counted). */
export function renderPlan(plan: EnforcePlan, color: boolean, width = 120): string {
  const c = pc.createColors(color);
  const w = Math.max(80, width) - 10;
  const t = new Table({
    head: ["Account", "User", "Mode", "Action", "Why"],
    style: { head: [], border: [] },
    colWidths: [18, 18, 9, 20, Math.max(20, w - 65)],
    wordWrap: true,
  });
  for (const d of plan.decisions) {
    const o = decisionOutcome(d);
    if (o.state === "none") continue;
    const paint = o.state === "failed" ? c.red : o.state === "done" ? c.green : c.yellow;
    t.push([d.accountId, d.userName, d.mode, paint(o.text), d.reason]);
  }
  // Every account not reconciled where quarantine is on is named, with why; accounts whose quarantine
  // is off and that have nothing deployed for it are only counted (800 of them are not 800 rows).
  const failing = plan.accounts.filter((a) => a.status !== "reconciled" && a.mode !== "off");
  for (const a of failing)
    t.push([`${a.accountName}\n${a.accountId}`, "—", a.mode, c.red(a.status), a.error?.message ?? ""]);
  for (const a of plan.notAudited ?? [])
    t.push([
      `${a.accountName}\n${a.accountId}`,
      "—",
      "—",
      c.red("not audited"),
      `${a.reason}${a.error ? ` (${a.error})` : ""}`,
    ]);
  const offElsewhere = plan.accounts.filter((a) => a.status !== "reconciled" && a.mode === "off").length;
  const s = plan.summary;
  const lines = [
    `${plan.apply ? "Applied" : "Plan only (no change made; --apply to make them)"}: ${s.quarantined} quarantined, ${s.released} released, ${s.pending} pending, ${s.unchanged} already right, ${s.failed} failed.`,
  ];
  if (s.accountsNotReconciled) {
    const named = failing.length + (plan.notAudited?.length ?? 0);
    lines.push(
      c.red(
        `${plural(s.accountsNotReconciled, "in-scope account")} not reconciled${named ? ` (named above: ${[failing.length ? `${failing.length} where quarantine is on but could not be reconciled` : "", plan.notAudited?.length ? `${plan.notAudited.length} the scan could not audit` : ""].filter(Boolean).join(", ")})` : ""}.`,
      ),
    );
  }
  if (offElsewhere)
    lines.push(
      `${plural(offElsewhere, "account")} with quarantine off and no quarantine resources deployed: not looked at (set quarantine modes in --config to turn it on).`,
    );
  return `${t.length ? `${t.toString()}\n` : ""}${lines.join("\n")}\n`;
}
