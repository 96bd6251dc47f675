// report.html's scan facts: who scanned what, where, when, with which filters and config.
import { plural, type ScanReport } from "@orgmfa/core";
import { h, NOT_RECORDED, soft, when } from "./format";
import { verdictSource, type Warning } from "./tables";

/** What the page says about every user, counted in one pass (each account's users read once). */
export interface UserStats {
  total: number;
  partial: number;
  bySource: Array<[string, number]>;
  /** Each audited account's number of users, by account id. */
  usersOf: Map<string, number>;
}

export function userStats(report: ScanReport): UserStats {
  const sources = new Map<string, number>();
  const usersOf = new Map<string, number>();
  let total = 0;
  let partial = 0;
  for (const a of report.accounts) {
    if (a.status !== "AUDITED") continue;
    const users = a.users;
    usersOf.set(a.accountId, users.length);
    for (const u of users) {
      total++;
      if (u.mfaDevicesComplete === false) partial++;
      const s = verdictSource(u);
      sources.set(s, (sources.get(s) ?? 0) + 1);
    }
  }
  const bySource = [...sources.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  return { total, partial, bySource, usersOf };
}

/** The facts an auditor signs off: who scanned what, where, when, with which filters and config. */
export function scanFacts(
  report: ScanReport,
  stats: UserStats,
  generalWarnings: Warning[],
  exemptionWarnings: number,
): string {
  const run = report.run;
  const a = report.summary.accounts;
  const audited = report.accounts.filter((x) => x.status === "AUDITED");
  const seconds = Math.max(0, (new Date(report.finishedAt).getTime() - new Date(report.startedAt).getTime()) / 1000);

  const filters = (() => {
    if (!run) return NOT_RECORDED;
    const parts = (
      [
        ["only accounts", run.filters.accounts],
        ["excluding accounts", run.filters.excludeAccounts],
        ["only OUs", run.filters.ous],
        ["excluding OUs", run.filters.excludeOus],
      ] as const
    )
      .filter(([, ids]) => ids.length)
      .map(([label, ids]) => `${label} <code>${ids.map(h).join(", ")}</code>`);
    return parts.length ? parts.join(" · ") : "none: every account of the organization";
  })();

  const { bySource, partial } = stats;
  const inventory = !run
    ? NOT_RECORDED
    : run.completeInventory
      ? "complete: every user's MFA devices were listed live (--complete-inventory)"
      : `as each verdict needed: ${partial ? `${plural(partial, "user's device list is", "users' device lists are")} partial (only what the verdict needed: the virtual devices that prove MFA, or the report's word that MFA is on)` : "every user's device list is complete"}`;
  const verdicts = stats.total
    ? bySource.map(([s, n]) => `${n} from ${s === "LIVE" ? "live IAM reads" : "the credential report"}`).join(" · ")
    : "no IAM users in the audited accounts";
  const fallback = audited.filter((x) => x.collection === "FULLY_LIVE").length;
  const noted = audited.filter((x) => x.notes?.length).length;
  const collection =
    `${plural(audited.length, "account")} audited` +
    (fallback ? ` · ${plural(fallback, "account")} read fully live (credential report fallback)` : "") +
    (noted
      ? ` · <span class="partial">${plural(noted, "account has", "accounts have")} collection notes (see Accounts)</span>`
      : "");

  const warningCount = report.warnings?.length ?? 0;
  const warnings = !warningCount
    ? run
      ? "none"
      : `<span class="muted">none recorded</span>`
    : `<span class="partial">${plural(warningCount, "config warning")}</span>` +
      (exemptionWarnings ? ` (${exemptionWarnings} shown with the exemption it concerns, under Exemptions)` : "") +
      (generalWarnings.length
        ? `<ul class="notes">${generalWarnings.map((w) => `<li><code>${h(w.field)}</code>: ${h(w.message)}</li>`).join("")}</ul>`
        : "");

  const facts: Array<[string, string]> = [
    ["Scanned by", run ? (run.callerArn ? `<code>${soft(run.callerArn)}</code>` : "unknown") : NOT_RECORDED],
    ["Organization", `${h(report.organizationId ?? "unknown")} · partition ${h(report.partition)}`],
    ["Region", run ? h(run.region ?? "unknown") : NOT_RECORDED],
    [
      "Scan",
      `<code>${h(report.scanId)}</code> · ${when(report.startedAt)} → ${when(report.finishedAt)} (${seconds.toFixed(0)} s)`,
    ],
    [
      "Scope",
      `${plural(a.listed, "account")} listed · ${a.inScope} in scope · ${a.audited} audited · ${a.failed} failed · ${a.skipped} skipped`,
    ],
    ["Filters", filters],
    [
      "Config",
      !run
        ? NOT_RECORDED
        : run.configSha256
          ? `SHA-256 <code class="hash">${h(run.configSha256)}</code>`
          : "none: built-in defaults",
    ],
    ["Collection", collection],
    ["Verdicts", verdicts],
    ["Device inventory", inventory],
    ["Warnings", warnings],
  ];
  return `<section id="scan"><h2 class="facts-title">Scan</h2><dl class="facts">${facts
    .map(([k, v]) => `<dt>${h(k)}</dt><dd>${v}</dd>`)
    .join("")}</dl></section>`;
}
