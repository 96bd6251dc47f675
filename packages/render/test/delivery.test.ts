import { scanKeyPrefix } from "@orgmfa/contract";
import {
  type AccountOutcome,
  type AccountTarget,
  type Exemption,
  policyFromConfig,
  ReportSchemaError,
  readPreviousScan,
  type ScanReport,
} from "@orgmfa/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NOW, reportAt, root, user } from "../../core/test/fixtures";
import {
  type AsffFinding,
  archivedAsff,
  asffFindings,
  buildDigest,
  buildManifest,
  digested,
  type FileDigest,
  findingsToArchive,
  manifestJson,
  renderHtml,
  renderOcsf,
  reportJsonChunks,
  SNS_MAX_BYTES,
  scanFiles,
  sha256Hex,
  usersCsv,
} from "../src";

const HOSTILE = `<script>alert("x")</script> O'Brien & "Co"`;

/** An organization of `n` accounts, each with `users` console users without MFA. */
function org(o: {
  accounts: number;
  users: number;
  names?: (i: number) => string;
  userName?: (a: number, u: number) => string;
  failed?: number[];
  recent?: boolean;
}): { targets: AccountTarget[]; outcomes: Map<string, AccountOutcome> } {
  const targets: AccountTarget[] = [];
  const outcomes = new Map<string, AccountOutcome>();
  for (let i = 0; i < o.accounts; i++) {
    const accountId = String(100000000000 + i);
    targets.push({
      accountId,
      accountName: o.names?.(i) ?? `acct-${i}`,
      ouPath: `Root/OU-${i % 7}`,
      owner: null,
      state: "ACTIVE",
      skip: null,
    });
    if (o.failed?.includes(i)) {
      outcomes.set(accountId, {
        kind: "failure",
        accountId,
        reason: "ASSUME_ROLE_DENIED",
        error: { code: "AccessDenied", message: "not authorized" },
      });
      continue;
    }
    outcomes.set(accountId, {
      kind: "facts",
      accountId,
      partition: "aws",
      credentialReportGeneratedAt: NOW.toISOString(),
      collection: "REPORT_CONFIRMED_LIVE",
      notes: [],
      root: { ...root(), arn: `arn:aws:iam::${accountId}:root` },
      users: Array.from({ length: o.users }, (_, u) => {
        const name = o.userName?.(i, u) ?? `user-${u}`;
        return {
          ...user(name, {
            consoleAccess: true,
            passwordLastUsed: o.recent ? "2026-11-20T09:00:00.000Z" : "2025-01-01T00:00:00.000Z",
          }),
          arn: `arn:aws:iam::${accountId}:user/${name}`,
        };
      }),
    });
  }
  return { targets, outcomes };
}

function report(o: Parameters<typeof org>[0], previous: ScanReport | null = null, cfg = {}): ScanReport {
  const { targets, outcomes } = org(o);
  return reportAt(targets, outcomes, { scanId: `scan-${previous ? 2 : 1}`, policy: policyFromConfig(cfg), previous });
}

describe("SNS digest", () => {
  it("keeps 10,000 findings under 256 KB, with an ASCII subject under 100 characters", () => {
    const r = report({ accounts: 504, users: 20, names: (i) => `account-${i}-${"ü".repeat(40)}`, failed: [1, 2, 3] });
    expect(r.findings.length).toBeGreaterThanOrEqual(10_000);
    const d = buildDigest(r, { now: NOW, exemptions: [], reportLocation: "s3://b/orgmfa/scans/x/report.html" });
    expect(Buffer.byteLength(d.message, "utf8")).toBeLessThan(SNS_MAX_BYTES);
    expect(d.subject.length).toBeLessThan(100);
    expect(d.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(d.subject).toBe("orgmfa: 10020 users without MFA in 501 of 504 accounts, 3 not audited");
    expect(d.message).toMatch(/… and \d+ more/);
    expect(d.message).toContain("Full report: s3://b/orgmfa/scans/x/report.html");
  });

  it("a scan that audited nothing is never an all-clear: 'unknown' in the subject, the body and report.html", () => {
    for (const [r, why] of [
      [reportAt([], new Map(), { scanId: "nothing" }), "no account was in scope"],
      [report({ accounts: 3, users: 2, failed: [0, 1, 2] }), "none of the 3 in-scope accounts was audited"],
    ] as const) {
      const d = buildDigest(r, { now: NOW, exemptions: [], reportLocation: null });
      expect(d.subject).toMatch(/^orgmfa: users without MFA unknown - /);
      expect(d.message).toContain(`Users without MFA: unknown (${why}).`);
      expect(d.message).not.toMatch(/\b0 users without MFA/);
      const html = renderHtml(r);
      expect(html).toContain(
        `<div class="card bad"><div class="label">Users without MFA</div><div class="value">unknown</div><div class="detail">${why}</div>`,
      );
    }
  });

  it("stays under the limit however long the organization's names are", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 3000 }), fc.integer({ min: 1, max: 60 }), (name, n) => {
        const r = report({ accounts: n, users: 3, names: () => name, userName: (_a, u) => `${name.slice(0, 60)}${u}` });
        const d = buildDigest(r, { now: NOW, exemptions: [], reportLocation: null, maxBytes: 20_000 });
        expect(Buffer.byteLength(d.message, "utf8")).toBeLessThanOrEqual(20_000);
        expect(d.subject.length).toBeLessThan(100);
      }),
      { numRuns: 40 },
    );
  });

  it("lists riskiest users (console, no MFA, signed in recently), failed accounts and exemptions", () => {
    const exemptions: Exemption[] = [
      { account: "*", principal: "break-glass", checks: "*", reason: "key on order", expires: "2026-11-30" },
      { account: "*", principal: "old", checks: "*", reason: "was accepted", expires: "2026-11-01" },
      { account: "*", principal: "later", checks: "*", reason: "far away", expires: "2027-06-01" },
    ];
    const recent = report({ accounts: 2, users: 1, recent: true, failed: [1] });
    const d = buildDigest(recent, { now: NOW, exemptions, reportLocation: null });
    expect(d.message).toContain("Riskiest users — console password, no MFA, signed in within 30 days (1):");
    expect(d.message).toContain("user-0 in acct-0 (100000000000), last sign-in 2026-11-20T09:00:00.000Z");
    expect(d.message).toContain("acct-1 (100000000001), Root/OU-1: ASSUME_ROLE_DENIED — AccessDenied");
    expect(d.message).toContain("Exemptions expiring within 14 days (1):\n  - break-glass in every account");
    expect(d.message).toContain("Expired exemptions — no longer applied (1):\n  - old in every account");
    expect(d.message).not.toContain("far away");
    const stale = buildDigest(report({ accounts: 1, users: 1 }), { now: NOW, exemptions: [], reportLocation: null });
    expect(stale.message).not.toContain("Riskiest users");
  });

  it("says what is new and resolved since the previous scan", () => {
    const before = report({ accounts: 2, users: 2 });
    const after = report({ accounts: 2, users: 1 }, before);
    const d = buildDigest(after, { now: NOW, exemptions: [], reportLocation: null });
    expect(d.subject).toBe("orgmfa: 2 users without MFA in 2 of 2 accounts (0 new)");
    expect(d.message).toContain("Resolved since scan scan-1 (2):");
    expect(d.message).toContain("USER_CONSOLE_NO_MFA: user-1 in 100000000000");
  });
});

describe("report.html", () => {
  it("escapes every organization-supplied string and loads nothing from the network", () => {
    const r = report({
      accounts: 2,
      users: 1,
      names: () => HOSTILE,
      userName: () => `<img src=x onerror=alert(1)>`,
      failed: [1],
    });
    const html = renderHtml(r);
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Brien &amp; &quot;Co&quot;");
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(html).toContain("default-src 'none'");
    expect(html.match(/<svg /g)).toHaveLength(3);
  });
});

describe("auditor files", () => {
  it("neutralises spreadsheet formulas in user names", () => {
    const r = report({ accounts: 1, users: 1, userName: () => "=1+2@x" });
    expect(usersCsv(r)).toContain(",'=1+2@x,");
  });

  it("users.csv says whether each user has MFA, also when its device was not listed", () => {
    const target: AccountTarget = {
      accountId: "111122223333",
      accountName: "a",
      ouPath: "Root",
      owner: null,
      state: "ACTIVE",
      skip: null,
    };
    const r = reportAt(
      [target],
      new Map<string, AccountOutcome>([
        [
          "111122223333",
          {
            kind: "facts",
            accountId: "111122223333",
            partition: "aws",
            credentialReportGeneratedAt: NOW.toISOString(),
            collection: "REPORT_CONFIRMED_LIVE",
            notes: [],
            root: root(),
            users: [
              user("none", { consoleAccess: true }),
              // MFA proven by the credential report, its hardware device not listed.
              user("hardware", { consoleAccess: true, mfaActive: true, mfaDevicesComplete: false }),
              user("app", { consoleAccess: true, devices: ["arn:aws:iam::111122223333:mfa/app"] }),
            ],
          },
        ],
      ]),
      { scanId: "s", policy: policyFromConfig({}), previous: null },
    );
    const rows = usersCsv(r)
      .trim()
      .split("\r\n")
      .map((l) => l.split(","));
    const col = rows[0]?.indexOf("hasMfa") ?? -1;
    expect(col).toBeGreaterThan(0);
    expect(
      rows
        .slice(1)
        .map((row) => [row[2], row[col], row[col + 1]])
        .sort(),
    ).toEqual([
      ["app", "true", "1"],
      ["hardware", "true", "0"],
      ["none", "false", "0"],
    ]);
  });

  it("has a manifest whose digests are the files' SHA-256", () => {
    const r = report({ accounts: 1, users: 1 });
    const files = scanFiles(r);
    const manifest = JSON.parse(files["manifest.json"] ?? "");
    const { "manifest.json": _, ...rest } = files;
    expect(manifest).toEqual(buildManifest(r.scanId, rest));
    for (const f of manifest.files) expect(f.sha256).toBe(sha256Hex(files[f.name] ?? ""));
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(scanKeyPrefix("/reports/", r)).toBe("reports/scans/2026/11/21/scan-1/");
    expect(scanKeyPrefix("", r)).toBe("scans/2026/11/21/scan-1/");
  });

  it("writes report.json a piece at a time, byte for byte JSON.stringify's document", () => {
    for (const r of [report({ accounts: 3, users: 2, failed: [1] }), report({ accounts: 0, users: 0 })]) {
      const pieces = [...reportJsonChunks(r)];
      expect(pieces.join("")).toBe(`${JSON.stringify(r, null, 2)}\n`);
      // One piece per account and per finding: no piece holds the ledger or the findings whole.
      if (r.accounts.length) expect(pieces.length).toBeGreaterThan(r.accounts.length + r.findings.length);
    }
  });

  it("digests a file as it streams: the manifest's size and SHA-256 are those of the bytes written", () => {
    const r = report({ accounts: 2, users: 3 });
    const files = scanFiles(r);
    const digests: FileDigest[] = [];
    const text = files["report.json"] ?? "";
    // Small buffers, and a multi-byte character, so pieces are joined and split as a large file's are.
    const pieces = [...(text.match(/[\s\S]{1,7}/g) ?? []), "é€"];
    const written = Buffer.concat([...digested("report.json", pieces, (d) => digests.push(d), 64)]);
    expect(written.toString("utf8")).toBe(`${text}é€`);
    expect(digests).toEqual([{ name: "report.json", bytes: written.length, sha256: sha256Hex(written) }]);
    const { "manifest.json": manifest, ...rest } = files;
    const all = Object.entries(rest).map(([name, content]) => ({
      name,
      bytes: Buffer.byteLength(content),
      sha256: sha256Hex(content),
    }));
    expect(manifestJson(r.scanId, all)).toBe(manifest);
  });

  it("reads the previous scan's id and findings from a report.json as it streams in, and refuses what is not one", async () => {
    const r = report({ accounts: 2, users: 2, failed: [1] });
    const text = `${JSON.stringify(r, null, 2)}\n`;
    const stream = async function* (s: string, size = 100) {
      for (let i = 0; i < s.length; i += size) yield Buffer.from(s.slice(i, i + size));
    };
    const previous = await readPreviousScan(stream(text));
    expect(previous.scanId).toBe(r.scanId);
    expect(previous.startedAt).toBe(r.startedAt);
    expect(previous.findings).toEqual(
      r.findings.map((f) => ({
        id: f.id,
        status: f.status,
        checkId: f.checkId,
        accountId: f.accountId,
        firstSeenAt: f.firstSeenAt,
      })),
    );
    const refused = async (s: string) => {
      const e = await readPreviousScan(stream(s)).catch((x: unknown) => x);
      expect(e, s.slice(0, 40)).toBeInstanceOf(ReportSchemaError);
      return (e as ReportSchemaError).problems[0];
    };
    expect(await refused(text.slice(0, text.length / 2))).toMatch(/not JSON/);
    expect(await refused(`${text}{}`)).toMatch(/not JSON/);
    expect(await refused(text.replace('"name": "orgmfa"', '"name": "other"'))).toMatch(/tool\/name/);
    expect(await refused(text.replace(/"status": "OPEN"/, '"status": "MAYBE"'))).toMatch(/^\/findings\/0\/status/);
    expect(await refused("[]")).toMatch(/scanId|schemaVersion|tool/);
  });

  it("writes one OCSF Compliance Finding per line", () => {
    const r = report({ accounts: 1, users: 2 });
    const lines = renderOcsf(r)
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      class_uid: 2003,
      type_uid: 200301,
      severity_id: 4,
      status: "New",
      compliance: { status: "Fail", requirements: ["IAM.5", "IAM.19", "CIS v7.0 2.10", "CIS v3.0 1.10"] },
      cloud: { provider: "AWS", account: { uid: "100000000000" }, org: { uid: "o-abcdefghij" } },
    });
  });
});

describe("Security Hub lifecycle", () => {
  const ctx = { region: "us-east-1", scanningAccountId: "999999999999" };

  it("imports each finding in its own account, coverage findings in the scanning account, never Workflow", () => {
    const r = report({ accounts: 2, users: 1, failed: [1] });
    const asff = asffFindings(r, ctx);
    expect(asff.map((f) => [f.GeneratorId, f.AwsAccountId, f.ProductArn])).toEqual([
      [
        "orgmfa/USER_CONSOLE_NO_MFA",
        "100000000000",
        "arn:aws:securityhub:us-east-1:100000000000:product/100000000000/default",
      ],
      [
        "orgmfa/ACCOUNT_NOT_AUDITED",
        "999999999999",
        "arn:aws:securityhub:us-east-1:999999999999:product/999999999999/default",
      ],
    ]);
    for (const f of asff) expect(Object.keys(f)).not.toEqual(expect.arrayContaining(["Workflow"]));
    expect(asff[1]?.Resources[0]?.Id).toBe("AWS::::Account:100000000001");
  });

  it("archives only orgmfa's resolved findings, for checks that ran, in accounts audited now", () => {
    const before = report({ accounts: 3, users: 2, failed: [2] });
    const existing = asffFindings(before, ctx);
    const foreign: AsffFinding = { ...(existing[0] as AsffFinding), Id: "prowler-1", GeneratorId: "prowler/iam" };
    // Now: account 0 fixed user-1; account 1 failed (its findings must stay); account 2 audited.
    const now = report({ accounts: 3, users: 1, failed: [1] });
    const ids = findingsToArchive([...existing, foreign], now, policyFromConfig()).map((f) => f.Id);
    expect(ids).toEqual([
      "orgmfa/USER_CONSOLE_NO_MFA/100000000000/user/user-1",
      "orgmfa/ACCOUNT_NOT_AUDITED/100000000002/account",
    ]);
    const disabled = policyFromConfig({ checks: { USER_CONSOLE_NO_MFA: { enabled: false } } });
    expect(findingsToArchive(existing, now, disabled).map((f) => f.Id)).toEqual([
      "orgmfa/ACCOUNT_NOT_AUDITED/100000000002/account",
    ]);
    const archived = archivedAsff(existing[0] as AsffFinding, new Date("2020-01-01T00:00:00Z"));
    expect(archived).toMatchObject({ RecordState: "ARCHIVED", Compliance: { Status: "PASSED" } });
    expect(Date.parse(archived.UpdatedAt)).toBeGreaterThan(Date.parse(existing[0]?.UpdatedAt ?? ""));
    expect(archived).not.toHaveProperty("Workflow");
  });
});
