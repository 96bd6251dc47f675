import {
  AccessDeniedException,
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from "@aws-sdk/client-securityhub";
import { type AccountOutcome, type AccountTarget, buildReport, CHECK_INFO, policyFromConfig } from "@orgmfa/core";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { ClientPool, syncSecurityHub } from "../src";

// The emulator never refuses a finding; Security Hub does (FailedFindings with an ErrorCode), so
// partial failures are produced here with AWS's response shape.
const NOW = new Date("2026-11-21T12:00:00Z");
const SCANNER = "999999999999";
const ACCOUNTS = ["111111111111", "222222222222", "333333333333"];

/** The three accounts at `at`, each with these console users without MFA (alice by default). */
function report(o: { at?: Date; scanId?: string; users?: Record<string, string[]> } = {}) {
  const at = o.at ?? NOW;
  const targets: AccountTarget[] = ACCOUNTS.map((accountId) => ({
    accountId,
    accountName: `acct-${accountId.slice(0, 1)}`,
    ouPath: "Root",
    owner: null,
    state: "ACTIVE",
    skip: null,
  }));
  const outcomes = new Map<string, AccountOutcome>(
    ACCOUNTS.map((accountId) => [
      accountId,
      {
        kind: "facts",
        accountId,
        partition: "aws",
        credentialReportGeneratedAt: at.toISOString(),
        collection: "REPORT_CONFIRMED_LIVE",
        notes: [],
        users: (o.users?.[accountId] ?? ["alice"]).map((userName) => ({
          userName,
          arn: `arn:aws:iam::${accountId}:user/${userName}`,
          createdAt: NOW.toISOString(),
          consoleAccess: true,
          passwordLastUsed: null,
          activeAccessKeys: 0,
          mfaDevices: [],
          verifiedLive: true,
          mfaDevicesComplete: true,
          verdictAsOf: NOW.toISOString(),
        })),
        root: {
          arn: `arn:aws:iam::${accountId}:root`,
          credentials: "ABSENT",
          password: false,
          activeAccessKeys: false,
          activeSigningCertificates: false,
          mfaEnabled: false,
          virtualDevices: [],
          source: "GetAccountSummary",
        },
      },
    ]),
  );
  return buildReport({
    scanId: o.scanId ?? "scan-1",
    toolVersion: "0.1.0",
    startedAt: at,
    finishedAt: at,
    organizationId: "o-abcdefghij",
    partition: "aws",
    targets,
    outcomes,
    policy: policyFromConfig(),
  });
}

const mock = mockClient(SecurityHubClient);
afterEach(() => mock.reset());

describe("Security Hub sync", () => {
  it("re-imports refused findings, reports the ones still refused, and keeps going past a denied hub", async () => {
    const [first, second, third] = ACCOUNTS as [string, string, string];
    mock.on(GetFindingsCommand).callsFake((input) => {
      const account = input.Filters?.AwsAccountId?.[0]?.Value;
      if (account === third)
        throw new AccessDeniedException({
          message: "not authorized to perform: securityhub:GetFindings",
          $metadata: {},
        });
      return { Findings: [] };
    });
    const calls: Record<string, number> = {};
    mock.on(BatchImportFindingsCommand).callsFake((input) => {
      const account = input.Findings?.[0]?.AwsAccountId ?? "";
      calls[account] = (calls[account] ?? 0) + 1;
      const refuse = account === second || (account === first && calls[account] === 1);
      return refuse
        ? {
            FailedCount: 1,
            SuccessCount: 0,
            FailedFindings: input.Findings?.map((f: AwsSecurityFinding) => ({
              Id: f.Id,
              ErrorCode: "InvalidInput",
              ErrorMessage: "Finding does not adhere to Amazon Finding Format",
            })),
          }
        : { FailedCount: 0, SuccessCount: input.Findings?.length ?? 0, FailedFindings: [] };
    });

    const pool = new ClientPool({
      region: "us-east-1",
      baseCredentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" }),
    });
    const r = await syncSecurityHub(pool, {
      report: report(),
      policy: policyFromConfig(),
      region: "us-east-1",
      scanningAccountId: SCANNER,
      failedFindingRetries: 3,
      retryDelayMs: 1,
    });
    pool.destroy();

    const hub = (id: string) => r.hubs.find((h) => h.accountId === id);
    expect(hub(first)).toMatchObject({ imported: 1, failed: [], error: null });
    expect(calls[first]).toBe(2);
    expect(hub(second)?.imported).toBe(0);
    expect(hub(second)?.failed).toEqual([
      {
        id: `orgmfa/USER_CONSOLE_NO_MFA/${second}/user/alice`,
        code: "InvalidInput",
        message: "Finding does not adhere to Amazon Finding Format",
      },
    ]);
    expect(calls[second]).toBe(4); // the first try and three retries
    expect(hub(third)?.error).toMatchObject({ code: "AccessDeniedException" });
    expect(r.problems).toBe(2);
    expect(r.imported).toBe(1);
  });
});

type Stored = Record<string, unknown> & { Id: string; UpdatedAt: string; AwsAccountId: string };
type Provided = "Severity" | "Types" | "Confidence" | "Criticality" | "RelatedFindings";
const PROVIDED: Provided[] = ["Severity", "Types", "Confidence", "Criticality", "RelatedFindings"];
const CUSTOMER_ONLY = ["Note", "UserDefinedFields", "VerificationState", "Workflow"];

/**
 * Security Hub as its User Guide documents it ("BatchImportFindings for finding providers"), for
 * what moto cannot show: moto 5 has no BatchUpdateFindings and stores an import as it was sent.
 * - An import whose Id exists is applied only if its UpdatedAt is later.
 * - Note, UserDefinedFields, VerificationState and Workflow of an existing finding are ignored.
 * - For Severity, Types, Confidence, Criticality and RelatedFindings ("Using FindingProviderFields"):
 *   a FindingProviderFields value is stored and replicated to the top-level attribute "only if the
 *   attribute was not already updated by BatchUpdateFindings"; a top-level value alone overwrites
 *   FindingProviderFields and updates the top level under the same condition; with both, a new
 *   finding takes the FindingProviderFields value for both, an existing one uses both, the top
 *   level again only if BatchUpdateFindings has not changed it.
 */
class DocumentedSecurityHub {
  readonly findings = new Map<string, { data: Stored; changedByCustomer: Set<Provided> }>();

  batchImportFindings(findings: Stored[]): void {
    for (const f of findings) {
      const existing = this.findings.get(f.Id);
      if (existing && Date.parse(f.UpdatedAt) <= Date.parse(existing.data.UpdatedAt)) continue;
      const { FindingProviderFields: sentFpf, ...rest } = f as Stored & {
        FindingProviderFields?: Record<string, unknown>;
      };
      const prev = existing?.data ?? ({} as Stored);
      const data: Stored = { ...rest };
      for (const k of CUSTOMER_ONLY) if (existing) data[k] = prev[k];
      const fpf: Record<string, unknown> = { ...((prev.FindingProviderFields as Record<string, unknown>) ?? {}) };
      const changed = existing?.changedByCustomer ?? new Set<Provided>();
      for (const k of PROVIDED) {
        const inFpf = sentFpf?.[k];
        const top = rest[k];
        delete data[k];
        if (prev[k] !== undefined) data[k] = prev[k];
        const value = inFpf !== undefined ? inFpf : top;
        if (value === undefined) continue;
        fpf[k] = value;
        const topValue = !existing || top === undefined ? value : top;
        if (!changed.has(k)) data[k] = topValue;
      }
      data.FindingProviderFields = fpf;
      this.findings.set(f.Id, { data, changedByCustomer: changed });
    }
  }

  /** What an analyst does in the console or through BatchUpdateFindings. */
  batchUpdateFindings(id: string, fields: Partial<Record<Provided | "Workflow", unknown>>): void {
    const f = this.findings.get(id);
    if (!f) throw new Error(`no finding ${id}`);
    for (const [k, v] of Object.entries(fields)) {
      f.data[k] = v;
      if ((PROVIDED as string[]).includes(k)) f.changedByCustomer.add(k as Provided);
    }
  }

  get(id: string): Stored & { FindingProviderFields?: Record<string, unknown> } {
    const f = this.findings.get(id);
    if (!f) throw new Error(`no finding ${id}`);
    return structuredClone(f.data);
  }
}

describe("Security Hub sync as a finding provider", () => {
  it("sends severity and types in FindingProviderFields only, so an analyst's changes survive re-imports and archiving", async () => {
    const hub = new DocumentedSecurityHub();
    const sent: Array<Record<string, unknown>> = [];
    mock.on(GetFindingsCommand).callsFake((input) => ({
      Findings: [...hub.findings.values()]
        .map((f) => structuredClone(f.data))
        .filter((f) => f.AwsAccountId === input.Filters?.AwsAccountId?.[0]?.Value),
    }));
    mock.on(BatchImportFindingsCommand).callsFake((input) => {
      const findings = (input.Findings ?? []) as unknown as Stored[];
      sent.push(...structuredClone(findings));
      hub.batchImportFindings(findings);
      return { FailedCount: 0, SuccessCount: findings.length, FailedFindings: [] };
    });
    const pool = new ClientPool({
      region: "us-east-1",
      baseCredentials: async () => ({ accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" }),
    });
    const sync = (r: ReturnType<typeof report>) =>
      syncSecurityHub(pool, { report: r, policy: policyFromConfig(), region: "us-east-1", scanningAccountId: SCANNER });
    const [first, second] = ACCOUNTS as [string, string, string];
    const alice = (account: string) => `orgmfa/USER_CONSOLE_NO_MFA/${account}/user/alice`;
    const PROVIDER = {
      Severity: { Label: "HIGH", Original: "HIGH" },
      Types: [CHECK_INFO.USER_CONSOLE_NO_MFA.asffType],
    };
    const ANALYST = {
      Severity: { Label: "LOW" },
      Types: ["Software and Configuration Checks/Triage/Accepted Risk"],
    };

    // Scan 1 creates the findings; Security Hub fills the top level from FindingProviderFields.
    expect((await sync(report({ at: NOW }))).problems).toBe(0);
    expect(hub.get(alice(first))).toMatchObject({ ...PROVIDER, FindingProviderFields: PROVIDER });

    // An analyst lowers alice's severity and retypes it in the first account.
    hub.batchUpdateFindings(alice(first), { ...ANALYST, Workflow: { Status: "NOTIFIED" } });

    // The next day nothing changed: nothing is imported again (each import is a billed ingestion event).
    const sentBefore = sent.length;
    const nextDay = await sync(report({ at: new Date(NOW.getTime() + 86_400_000), scanId: "scan-1b" }));
    expect(nextDay).toMatchObject({ imported: 0, problems: 0 });
    expect(nextDay.hubs.reduce((n, h) => n + h.unchanged, 0)).toBe(ACCOUNTS.length);
    expect(sent.length).toBe(sentBefore);

    // Scan 2, a month on, still finds alice everywhere: unchanged findings are refreshed (well before
    // Security Hub's 90 days), and the re-import updates the finding, not the analyst's view.
    const later = new Date(NOW.getTime() + 31 * 86_400_000);
    expect((await sync(report({ at: later, scanId: "scan-2" }))).imported).toBe(ACCOUNTS.length);
    expect(hub.get(alice(first))).toMatchObject({ ...ANALYST, FindingProviderFields: PROVIDER, RecordState: "ACTIVE" });
    expect(hub.get(alice(first)).UpdatedAt).toBe(later.toISOString());
    expect(hub.get(alice(second))).toMatchObject({ ...PROVIDER, FindingProviderFields: PROVIDER });

    // Scan 3: alice is gone from the first account; archiving keeps both the analyst's and orgmfa's values.
    const last = new Date(NOW.getTime() + 32 * 86_400_000);
    const r3 = await sync(report({ at: last, scanId: "scan-3", users: { [first]: [] } }));
    expect(r3.archived).toBe(1);
    expect(hub.get(alice(first))).toMatchObject({
      ...ANALYST,
      FindingProviderFields: PROVIDER,
      Workflow: { Status: "NOTIFIED" },
      RecordState: "ARCHIVED",
      Compliance: { Status: "PASSED" },
    });
    pool.destroy();

    // On the wire: every import (new, re-import, archive) carried provider fields only.
    expect(sent.length).toBeGreaterThan(2 * ACCOUNTS.length);
    for (const f of sent) {
      for (const k of [...PROVIDED, ...CUSTOMER_ONLY]) expect(f, `${f.Id} ${k}`).not.toHaveProperty(k);
      expect(f.FindingProviderFields, String(f.Id)).toMatchObject(PROVIDER);
    }
  });
});
