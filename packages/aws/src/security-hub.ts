import {
  type AwsSecurityFinding,
  type AwsSecurityFindingFilters,
  BatchImportFindingsCommand,
  paginateGetFindings,
  type SecurityHubClient,
} from "@aws-sdk/client-securityhub";
import {
  type AccountEntry,
  type AccountTarget,
  type BuildReportInput,
  buildReport,
  type Clock,
  type Policy,
  type ScanReport,
  systemClock,
} from "@orgmfa/core";
import {
  type AsffFinding,
  archivedAsff,
  CONTENT_HASH_FIELD,
  defaultProductArn,
  findingsToArchive,
  GENERATOR_PREFIX,
  importAccount,
  type StoredAsffFinding,
  toAsff,
} from "@orgmfa/render";
import pLimit from "p-limit";
import type { ClientPool } from "./client-pool";
import { errorCode, errorMessage } from "./errors";

export interface SecurityHubSyncOptions {
  report: ScanReport;
  /** Which checks ran (only their findings may be archived). */
  policy: Pick<Policy, "checks">;
  /** Region of the Security Hub findings go to. */
  region: string;
  /** The account orgmfa runs in (ACCOUNT_NOT_AUDITED findings go there). */
  scanningAccountId: string;
  clock?: Clock;
  /** Hubs synchronised at once. @default 8 */
  concurrency?: number;
  /** Rounds of re-importing findings Security Hub returned in FailedFindings. @default 3 */
  failedFindingRetries?: number;
  /** Pause before each such round, multiplied by the round number. @default 500 */
  retryDelayMs?: number;
  /**
   * Only these hubs (by account id): the deployed workflow syncs each member account's hub in the
   * ScanBatch that scanned it, and the scanning account's hub in Publish. @default every hub
   */
  hubs?: readonly string[];
  /**
   * A finding unchanged since it was last imported (same content hash) is imported again only when
   * that import is older than this, well inside the 90 days after which Security Hub deletes a
   * finding nobody updated. @default 30 days
   */
  refreshAfterMs?: number;
}

export interface HubSyncResult {
  accountId: string;
  /** Findings of this scan imported (open ones ACTIVE, exempted ones ARCHIVED). */
  imported: number;
  /** Findings resolved since an earlier scan, re-imported as PASSED and ARCHIVED. */
  archived: number;
  /** Findings of this scan already in the hub unchanged (and recently imported): not imported again. */
  unchanged: number;
  /** Findings Security Hub still refused after the retries. */
  failed: Array<{ id: string; code: string; message: string }>;
  /** Set when this hub could not be synchronised at all (e.g. AccessDenied); other hubs still are. */
  error: { code: string; message: string } | null;
}

export interface SecurityHubSyncResult {
  imported: number;
  archived: number;
  hubs: HubSyncResult[];
  /** Hubs with an error plus findings refused: 0 means everything landed. */
  problems: number;
}

const BATCH = 100;

/** orgmfa's active findings in one account's hub (filters applied by Security Hub, and again here). */
async function activeOrgMfaFindings(client: SecurityHubClient, accountId: string, productArn: string) {
  const Filters: AwsSecurityFindingFilters = {
    GeneratorId: [{ Value: GENERATOR_PREFIX, Comparison: "PREFIX" }],
    RecordState: [{ Value: "ACTIVE", Comparison: "EQUALS" }],
    AwsAccountId: [{ Value: accountId, Comparison: "EQUALS" }],
    ProductArn: [{ Value: productArn, Comparison: "EQUALS" }],
  };
  const found: AwsSecurityFinding[] = [];
  for await (const page of paginateGetFindings({ client, pageSize: BATCH }, { Filters, MaxResults: BATCH })) {
    for (const f of page.Findings ?? []) {
      // Never trust a filter with someone else's findings: check every field it was asked for.
      if (
        f.AwsAccountId === accountId &&
        f.ProductArn === productArn &&
        f.RecordState === "ACTIVE" &&
        f.GeneratorId?.startsWith(GENERATOR_PREFIX)
      )
        found.push(f);
    }
  }
  return found;
}

/** Imports in batches of ≤100; re-imports what Security Hub refused, then reports what it still refuses. */
async function importAll(
  client: SecurityHubClient,
  findings: readonly AsffFinding[],
  retries: number,
  delayMs: number,
): Promise<{ imported: number; failed: HubSyncResult["failed"] }> {
  let imported = 0;
  let pending = [...findings];
  let failed: HubSyncResult["failed"] = [];
  for (let round = 0; pending.length > 0 && round <= retries; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, delayMs * round));
    failed = [];
    const refused: AsffFinding[] = [];
    for (let i = 0; i < pending.length; i += BATCH) {
      const batch = pending.slice(i, i + BATCH);
      const r = await client.send(new BatchImportFindingsCommand({ Findings: batch as AwsSecurityFinding[] }));
      imported += r.SuccessCount ?? batch.length - (r.FailedFindings?.length ?? 0);
      for (const f of r.FailedFindings ?? []) {
        const finding = batch.find((b) => b.Id === f.Id);
        if (finding) refused.push(finding);
        failed.push({ id: f.Id ?? "?", code: f.ErrorCode ?? "Error", message: f.ErrorMessage ?? "" });
      }
    }
    pending = refused;
  }
  return { imported, failed };
}

/**
 * Brings every hub up to date with one scan (docs/delivery.md, "Security Hub"): each finding imported in
 * the account it belongs to (ACCOUNT_NOT_AUDITED ones in the scanning account); orgmfa findings
 * active there but absent from this scan re-imported as PASSED + ARCHIVED — only for checks that
 * ran and accounts AUDITED in this scan. Every import, new finding or update, sends severity and
 * types in FindingProviderFields only, never the top-level ones, nor Workflow, Note,
 * UserDefinedFields or VerificationState: Security Hub fills a new finding's top-level fields from
 * FindingProviderFields and never lets a provider overwrite what BatchUpdateFindings changed, so
 * whether a finding already exists does not matter and analysts' changes survive. One hub's
 * failure is recorded and never stops the others.
 */
export async function syncSecurityHub(pool: ClientPool, o: SecurityHubSyncOptions): Promise<SecurityHubSyncResult> {
  const clock = o.clock ?? systemClock;
  const ctx = { region: o.region, scanningAccountId: o.scanningAccountId };
  // Only the hubs asked for, and only their findings made into ASFF (Publish, syncing the scanning
  // account's hub, would otherwise build and hash every finding of the organization).
  const only = o.hubs ? new Set(o.hubs) : null;
  const wanted = (accountId: string) => !only || only.has(accountId);
  const byHub = new Map<string, AsffFinding[]>();
  const hubs = new Set<string>(wanted(o.scanningAccountId) ? [o.scanningAccountId] : []);
  for (const a of o.report.accounts) if (a.status === "AUDITED" && wanted(a.accountId)) hubs.add(a.accountId);
  for (const finding of o.report.findings) {
    const at = importAccount(finding, ctx);
    if (!wanted(at)) continue;
    const f = toAsff(finding, o.report, ctx);
    const list = byHub.get(at);
    if (list) list.push(f);
    else byHub.set(at, [f]);
    hubs.add(at);
  }

  const limit = pLimit(o.concurrency ?? 8);
  // Judged against this scan's time: every UpdatedAt orgmfa sends is the finishedAt of a scan.
  const refreshBefore = Date.parse(o.report.finishedAt) - (o.refreshAfterMs ?? 30 * 86_400_000);
  const results = await Promise.all(
    [...hubs].sort().map((accountId) =>
      limit(async (): Promise<HubSyncResult> => {
        const result: HubSyncResult = { accountId, imported: 0, archived: 0, unchanged: 0, failed: [], error: null };
        const client = pool.securityHub(accountId, accountId === o.scanningAccountId ? "self" : "audit-role");
        const productArn = defaultProductArn(o.report.partition, o.region, accountId);
        try {
          const existing = await activeOrgMfaFindings(client, accountId, productArn);
          const stored = new Map(existing.map((e) => [e.Id, e]));
          const all = (byHub.get(accountId) ?? []).map((f) => ({
            ...f,
            CreatedAt: stored.get(f.Id)?.CreatedAt ?? f.CreatedAt,
          }));
          // New or changed findings are imported; an unchanged one only when its last import is old.
          const current = all.filter((f) => {
            const e = stored.get(f.Id);
            return (
              !e ||
              e.ProductFields?.[CONTENT_HASH_FIELD] !== f.ProductFields?.[CONTENT_HASH_FIELD] ||
              !(Date.parse(e.UpdatedAt ?? "") >= refreshBefore)
            );
          });
          result.unchanged = all.length - current.length;
          const resolved = findingsToArchive(existing as StoredAsffFinding[], o.report, o.policy).map((e) =>
            archivedAsff(e, clock.now()),
          );
          const r = await importAll(
            client,
            [...current, ...resolved],
            o.failedFindingRetries ?? 3,
            o.retryDelayMs ?? 500,
          );
          const refused = new Set(r.failed.map((f) => f.id));
          result.imported = current.filter((f) => !refused.has(f.Id)).length;
          result.archived = resolved.filter((f) => !refused.has(f.Id)).length;
          result.failed = r.failed;
        } catch (e) {
          result.error = { code: errorCode(e), message: errorMessage(e) };
        } finally {
          pool.release(accountId);
        }
        return result;
      }),
    ),
  );
  return {
    imported: results.reduce((n, r) => n + r.imported, 0),
    archived: results.reduce((n, r) => n + r.archived, 0),
    hubs: results,
    problems: results.reduce((n, r) => n + (r.error ? 1 : 0) + r.failed.length, 0),
  };
}

/** What did not land in one hub, as delivery problems: none when everything did. */
export function hubProblems(hub: HubSyncResult): Array<{ target: "securityhub"; message: string }> {
  const problems: Array<{ target: "securityhub"; message: string }> = [];
  if (hub.error)
    problems.push({
      target: "securityhub",
      message: `account ${hub.accountId}: ${hub.error.code}: ${hub.error.message}`,
    });
  const [first] = hub.failed;
  if (first)
    problems.push({
      target: "securityhub",
      message: `account ${hub.accountId}: ${hub.failed.length} finding(s) refused, e.g. ${first.id} (${first.code}: ${first.message})`,
    });
  return problems;
}

/** The note an account's ledger entry gets when its findings did not all land in its hub. */
export function hubNote(region: string, problems: ReadonlyArray<{ message: string }>): string {
  return `Security Hub (${region}): this account's findings did not all land (${problems.map((p) => p.message).join("; ")}); they are in this report.`;
}

/**
 * One account's findings into its own hub, from that account's entry alone (its single-account
 * report, with the findings it was evaluated to once — the same the run's report holds): what the scan
 * phase does the moment the account ends, holding its credentials. Never throws: a hub that is not
 * enabled or that refuses is in the result's `error` or `failed`, and the account stays audited.
 */
export async function syncAccountHub(
  pool: ClientPool,
  o: {
    run: Pick<BuildReportInput, "scanId" | "toolVersion" | "startedAt" | "finishedAt" | "organizationId" | "partition">;
    target: AccountTarget;
    entry: AccountEntry;
    policy: Policy;
    region: string;
    scanningAccountId: string;
  },
): Promise<HubSyncResult> {
  const accountId = o.target.accountId;
  try {
    const report = buildReport({
      ...o.run,
      targets: [o.target],
      entries: new Map([[accountId, o.entry]]),
      policy: o.policy,
    });
    const r = await syncSecurityHub(pool, {
      report,
      policy: o.policy,
      region: o.region,
      scanningAccountId: o.scanningAccountId,
      hubs: [accountId],
    });
    return r.hubs[0] ?? { accountId, imported: 0, archived: 0, unchanged: 0, failed: [], error: null };
  } catch (e) {
    return {
      accountId,
      imported: 0,
      archived: 0,
      unchanged: 0,
      failed: [],
      error: { code: errorCode(e), message: errorMessage(e) },
    };
  } finally {
    // The account is done: its hub client goes, as its IAM client went when its scan ended.
    pool.release(accountId);
  }
}
