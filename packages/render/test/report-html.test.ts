import type { Finding, ScanReport } from "@orgmfa/core";
import { HtmlValidate } from "html-validate";
import { beforeAll, describe, expect, it } from "vitest";
import { HTML_LIMITS, renderHtml } from "../src/html";
import { findingRow } from "../src/html/tables";
import { accountIdOf, syntheticReport } from "./synthetic-org";

// report.html is held to html-validate's recommended and accessibility (WCAG) presets, and at 10,000
// accounts it stays a page a browser opens: the long lists bounded, what they leave out counted exactly.

const validator = new HtmlValidate({ extends: ["html-validate:recommended", "html-validate:a11y"] });

/** html-validate's messages for a page, one line each (an empty list: valid). */
async function problems(html: string): Promise<string[]> {
  const result = await validator.validateString(html, "report.html");
  return result.results.flatMap((r) => r.messages.map((m) => `${m.line}:${m.column} ${m.ruleId}: ${m.message}`));
}

/** The markup between `start` (included) and the first `end` after it. */
function slice(html: string, start: string, end: string): string {
  const i = html.indexOf(start);
  if (i < 0) throw new Error(`${start} is not on the page`);
  return html.slice(i, html.indexOf(end, i) + end.length);
}

const findingsBody = (html: string) =>
  slice(html, '<table id="findings">', "</table>").replace(/^.*?<tbody>|<\/tbody><\/table>$/gs, "");
const userRowCount = (html: string) => (slice(html, '<table id="users">', "</table>").match(/<tr><td>/g) ?? []).length;
/** The account ids of the accounts table, top to bottom. */
const accountsListed = (html: string) =>
  [
    ...slice(html, '<table id="accounts"', "</table>").matchAll(
      /<tr class="status-\w+"><td>.*?<div class="muted">(\d{12})<\/div>/g,
    ),
  ].map((m) => m[1] ?? "");
const bound = (html: string, id: string) => {
  const m = new RegExp(`<p class="bounded" id="${id}" data-shown="(\\d+)" data-left-out="(\\d+)">(.*?)</p>`).exec(html);
  return m ? { shown: Number(m[1]), leftOut: Number(m[2]), text: m[3]?.replace(/<[^>]+>/g, "") ?? "" } : null;
};
const openOf = (r: ScanReport) => {
  const m = new Map<string, number>();
  for (const f of r.findings) if (f.status === "OPEN") m.set(f.accountId, (m.get(f.accountId) ?? 0) + 1);
  return m;
};
const rows = (r: ScanReport, findings: readonly Finding[]) => {
  const ou = new Map(r.accounts.map((a) => [a.accountId, a.ouPath]));
  return findings.map((f) => findingRow(f, ou.get(f.accountId) ?? "")).join("");
};

const HOSTILE = (i: number) => `<b>R&D</b> "Lab" ${i} & <script>x</script>`;
const EXEMPTION = {
  account: "*",
  principal: "user-013",
  checks: "*" as const,
  reason: "Service user, <no> credentials",
  expires: "2027-01-31",
};

describe("report.html of a small organization", () => {
  const r = syntheticReport({
    accounts: 12,
    users: 25,
    failEvery: 5,
    skipEvery: 7,
    name: HOSTILE,
    exemptions: [EXEMPTION],
  });
  const html = renderHtml(r);

  it("lists every finding exactly as the report orders them, every user and every account, leaving nothing out", () => {
    expect(r.findings.length).toBeLessThan(HTML_LIMITS.findings);
    expect(r.findings.some((f) => f.status === "EXEMPTED")).toBe(true);
    expect(findingsBody(html)).toBe(rows(r, r.findings));
    expect(userRowCount(html)).toBe(r.summary.users.total);
    expect(accountsListed(html).sort()).toEqual(r.accounts.map((a) => a.accountId).sort());
    expect(html).not.toContain('class="bounded');
    expect(html).not.toContain("left out");
  });

  it("passes html-validate's recommended and accessibility presets with no error", async () => {
    expect(await problems(html)).toEqual([]);
  });
});

describe("report.html of a large organization", () => {
  // The pipeline benchmark's organization: 10,000 accounts of 25 users, ~70,000 open findings,
  // 40 accounts not audited, 25 suspended; the users packed as Publish keeps them.
  let r: ScanReport;
  let html: string;
  beforeAll(() => {
    r = syntheticReport({
      accounts: 10_000,
      users: 25,
      failEvery: 250,
      skipEvery: 400,
      exemptions: [{ ...EXEMPTION, account: accountIdOf(3) }],
    });
    html = renderHtml(r);
  });

  it("is a page under 10 MB that says at the top what it leaves out and where the full lists are", () => {
    expect(r.summary.findings.open).toBeGreaterThan(65_000);
    expect(r.summary.users.total).toBeGreaterThan(240_000);
    expect(Buffer.byteLength(html, "utf8")).toBeLessThan(10 * 1024 * 1024);
    const top = slice(html, '<p class="bounded summary" id="bounded">', "</p>").replace(/<[^>]+>/g, "");
    expect(top).toContain(`the ${HTML_LIMITS.findings} most severe of ${r.findings.length} findings`);
    expect(top).toContain(`${HTML_LIMITS.users} of ${r.summary.users.total} users`);
    for (const file of ["findings.csv", "users.csv", "accounts.csv", "report.json"]) expect(top).toContain(file);
    expect(html).toContain('<a href="findings.csv">findings.csv</a>');
  });

  it("lists the most severe open findings up to the bound, and counts exactly what it left out", () => {
    const open = r.findings.filter((f) => f.status === "OPEN");
    const exempted = r.findings.length - open.length;
    expect(exempted).toBeGreaterThan(0);
    expect(findingsBody(html)).toBe(rows(r, open.slice(0, HTML_LIMITS.findings)));
    const b = bound(html, "findings-bound");
    expect(b).toEqual({
      shown: HTML_LIMITS.findings,
      leftOut: r.findings.length - HTML_LIMITS.findings,
      text: expect.stringContaining(
        `${r.findings.length - HTML_LIMITS.findings} left out (${open.length - HTML_LIMITS.findings} open, ${exempted} exempted)`,
      ),
    });
    expect(b?.text).toContain(`${HTML_LIMITS.findings} of ${r.findings.length} findings are listed here`);
  });

  it("lists every account not audited, in the alert and in the accounts table, whatever its rank", () => {
    const failed = r.accounts.filter((a) => a.status === "FAILED");
    expect(failed).toHaveLength(40);
    const alert = slice(html, '<div class="alert" id="not-audited">', "</div>");
    expect(alert).toContain("40 accounts were not audited");
    for (const a of failed)
      expect(alert).toContain(`${a.accountName} (${a.accountId}), ${a.ouPath}: ASSUME_ROLE_DENIED`);
    const listed = accountsListed(html);
    for (const a of failed) expect(listed).toContain(a.accountId);
  });

  it("ranks the accounts by open findings, lists the bound of them, and counts exactly the others", () => {
    const listed = accountsListed(html);
    const open = openOf(r);
    const ranked = listed.slice(0, HTML_LIMITS.accounts).map((id) => open.get(id) ?? 0);
    expect(ranked).toEqual([...ranked].sort((x, y) => y - x));
    const beyond = listed.slice(HTML_LIMITS.accounts);
    const status = new Map(r.accounts.map((a) => [a.accountId, a.status]));
    expect(beyond.length).toBeGreaterThan(0);
    expect(beyond.every((id) => status.get(id) === "FAILED")).toBe(true);
    expect(new Set(listed).size).toBe(listed.length);
    expect(bound(html, "accounts-bound")).toEqual({
      shown: listed.length,
      leftOut: r.accounts.length - listed.length,
      text: expect.stringContaining(`${r.accounts.length - listed.length} left out`),
    });
  });

  it("lists every OU with its counts, ranked by open findings", () => {
    const ous = slice(html, '<table id="ous"', "</table>");
    const paths = new Set(r.accounts.map((a) => a.ouPath));
    expect((ous.match(/<tr><td>/g) ?? []).length).toBe(paths.size);
    const open = openOf(r);
    const prod = r.accounts.filter((a) => a.ouPath === "Root/Workloads/Prod");
    const prodOpen = prod.reduce((n, a) => n + (open.get(a.accountId) ?? 0), 0);
    expect(ous).toContain(`${prodOpen}</td>`);
  });

  it("lists the users of the accounts ranked first up to the bound, and counts exactly the others", () => {
    expect(userRowCount(html)).toBe(HTML_LIMITS.users);
    const withUsers = r.accounts.filter((a) => a.status === "AUDITED" && a.users.length).length;
    const fullyShown = Math.floor(HTML_LIMITS.users / 25);
    expect(bound(html, "users-bound")).toEqual({
      shown: HTML_LIMITS.users,
      leftOut: r.summary.users.total - HTML_LIMITS.users,
      text: expect.stringContaining(
        `${r.summary.users.total - HTML_LIMITS.users} left out, of ${withUsers - fullyShown} accounts`,
      ),
    });
  });

  it("passes html-validate with no error, every bound crossed (smaller bounds keep the validation in seconds)", async () => {
    // The same page at bounds a tenth as large: html-validate 10 takes tens of seconds over the
    // 10,000-account page (its element lookups grow faster than the document), which is clean too.
    const mid = syntheticReport({
      accounts: 300,
      users: 25,
      failEvery: 40,
      skipEvery: 50,
      name: HOSTILE,
      exemptions: [EXEMPTION],
      warnings: [{ field: "exemptions[0].expires", message: "more than a year away" }],
    });
    const page = renderHtml(mid, { findings: 200, users: 110, accounts: 150 });
    for (const id of ["findings-bound", "users-bound", "accounts-bound"]) expect(bound(page, id), id).not.toBeNull();
    expect(page).toContain("10 of 25 users shown, 15 left out");
    expect(accountsListed(page)).toContain(accountIdOf(281));
    expect(await problems(page)).toEqual([]);
  });
});
