import {
  type DoctorCheck,
  discoverOrganization,
  discoveryFilters,
  doctorAccounts,
  doctorDelivery,
  doctorPrerequisites,
} from "@orgmfa/aws";
import { EXIT } from "@orgmfa/core";
import Table from "cli-table3";
import pc from "picocolors";
import { loadConfig, scopeOf } from "./config";
import { type ContextIo, withCommandContext } from "./context";
import type { IdentityAndScopeFlags } from "./flags";
import { colorFor, sinks } from "./io";
import { DEFAULT_S3_PREFIX } from "./options";

export interface DoctorFlags extends IdentityAndScopeFlags {
  s3Bucket?: string;
  s3Prefix?: string;
  snsTopicArn?: string;
  securityHub?: boolean;
  format?: "table" | "json";
  color?: boolean;
  /**
   * The deployment's `maxConcurrency` and `accountConcurrency` (its defaults, 20 and 10, unless given),
   * for the Lambda concurrency check.
   */
  mapConcurrency?: number;
  accountConcurrency?: number;
}

/** The deployment configuration's defaults (apps/infra/lib/config.ts) the concurrency check assumes. */
const DEPLOYED_MAP_CONCURRENCY = 20;
const DEPLOYED_ACCOUNT_CONCURRENCY = 10;

/**
 * `orgmfa doctor`: a pre-flight before and after rolling out the member StackSet. Credentials,
 * region, Organizations access, then every in-scope account (the audit role, each IAM read the scan
 * makes, Security Hub with --security-hub), the deployment's prerequisites in this account (a CloudTrail
 * trail for IAM's events, a gap when the config has a quarantine; the Lambda concurrency quota), the
 * bucket and the topic. Every gap comes with its fix.
 * Exit 0 when there is none; 4 when an account has one (it would not be audited or not delivered
 * to); 1 when only the bucket or topic has one; 2 for bad input, credentials or Organizations access.
 */
export async function runDoctorCommand(flags: DoctorFlags, io: ContextIo): Promise<number> {
  const { out } = sinks(io);
  const config = flags.config ? loadConfig(flags.config).config : {};
  return withCommandContext(flags, io, async ({ region, pool, caller: callerOf }) => {
    const checks: DoctorCheck[] = [];
    const global = (check: string, detail: string) =>
      checks.push({ check, accountId: null, accountName: null, ok: true, detail, fix: null });
    const caller = await callerOf();
    global("credentials", caller.arn);
    global("region", region);
    // Organizations that cannot be read or a scope left empty end the command: the context says why (exit 2).
    const { organizationId, targets } = await discoverOrganization(
      pool.organizations(),
      discoveryFilters(config, scopeOf(flags)),
    );
    global(
      "Organizations",
      `${organizationId}: ${targets.length} accounts listed, ${targets.filter((t) => t.skip === null).length} in scope`,
    );
    checks.push(
      ...(await doctorAccounts(pool, targets, {
        concurrency: flags.concurrency,
        ...(flags.securityHub ? { securityHubRegion: region } : {}),
      })),
    );
    // What the deployed workflow needs of this (the central) account that no stack creates: a trail for
    // IAM's events (a gap with the config's quarantine), and Lambda concurrency for the Map.
    checks.push(
      ...(await doctorPrerequisites(pool, {
        quarantine: config.quarantine !== undefined,
        mapConcurrency: flags.mapConcurrency ?? DEPLOYED_MAP_CONCURRENCY,
        accountConcurrency: flags.accountConcurrency ?? DEPLOYED_ACCOUNT_CONCURRENCY,
      })),
    );
    checks.push(
      ...(await doctorDelivery(pool, {
        ...(flags.s3Bucket ? { s3: { bucket: flags.s3Bucket, prefix: flags.s3Prefix ?? DEFAULT_S3_PREFIX } } : {}),
        ...(flags.snsTopicArn ? { snsTopicArn: flags.snsTopicArn } : {}),
      })),
    );
    const gaps = checks.filter((c) => !c.ok);
    if (flags.format === "json")
      out.write(`${JSON.stringify({ ok: gaps.length === 0, gaps: gaps.length, checks }, null, 2)}\n`);
    else
      out.write(
        renderDoctor(
          checks,
          colorFor(io.stdout, flags.color !== false),
          (io.stdout as { columns?: number }).columns ?? 120,
        ),
      );
    if (gaps.some((g) => g.accountId !== null)) return EXIT.INCOMPLETE;
    return gaps.length ? EXIT.ERROR : EXIT.OK;
  });
}

/**
 * The table: the global checks, then every gap with its fix, then one line for the accounts without a
 * gap (at thousands of accounts, a row each would bury the gaps; `--format json` lists every check).
 */
export function renderDoctor(checks: readonly DoctorCheck[], color: boolean, width = 120): string {
  const c = pc.createColors(color);
  const w = Math.max(80, width) - 13;
  const t = new Table({
    head: ["Check", "Account", "Result", "Fix"],
    style: { head: [], border: [] },
    colWidths: [15, 18, Math.floor((w - 33) / 2), Math.ceil((w - 33) / 2)],
    wordWrap: true,
  });
  const byAccount = new Map<string, DoctorCheck[]>();
  for (const k of checks) {
    if (k.accountId === null) {
      if (k.ok || k.warning)
        t.push([k.check, "—", k.warning ? c.yellow(`ok, ${k.detail}`) : c.green(`ok: ${k.detail}`), ""]);
      else t.push([k.check, "—", c.red(`GAP: ${k.detail}`), k.fix ?? ""]);
      continue;
    }
    byAccount.set(k.accountId, [...(byAccount.get(k.accountId) ?? []), k]);
  }
  let clean = 0;
  const checked = new Set<string>();
  for (const list of byAccount.values()) {
    for (const k of list) checked.add(k.check);
    const gaps = list.filter((k) => !k.ok);
    if (gaps.length === 0) clean++;
    for (const k of gaps) t.push([k.check, `${k.accountName}\n${k.accountId}`, c.red(`GAP: ${k.detail}`), k.fix ?? ""]);
  }
  if (clean > 0)
    t.push([
      "every check",
      `${clean} account${clean === 1 ? "" : "s"}`,
      c.green(`ok: every check passed (${[...checked].join(", ")})`),
      "",
    ]);
  const gaps = checks.filter((k) => !k.ok).length;
  const summary =
    gaps === 0
      ? c.green(`No gap: ${byAccount.size} accounts ready to scan.`)
      : c.red(`${gaps} gap${gaps === 1 ? "" : "s"}: each row marked GAP says what to fix.`);
  return `${t.toString()}\n${summary}\n`;
}
