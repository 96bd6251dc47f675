import { createHash } from "node:crypto";
import {
  type AccountOutcome,
  type AccountTarget,
  configSchema,
  type Exemption,
  headline,
  headlineText,
  policyFromConfig,
  type ScanReport,
} from "@orgmfa/core";
import { Ajv } from "ajv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NOW, reportAt, root, user } from "../../core/test/fixtures";
import {
  buildChatDigest,
  buildDigest,
  CHAT_DESCRIPTION_MAX_CHARS,
  CHAT_THREAD_BY,
  type ChatMessage,
  digestSubject,
  SNS_MAX_BYTES,
} from "../src";
import { syntheticReport } from "./synthetic-org";

/**
 * The custom notification of Amazon Q Developer in chat applications (formerly AWS Chatbot), written
 * from its documentation — Amazon Q Developer in chat applications Administrator Guide, "Custom
 * notifications using Amazon Q Developer in chat applications", sections "Event schema" and "Parameter
 * details" (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html): `version` must be
 * "1.0" and `source` "custom" (required); `id` optional; `content.textType` optional, only
 * "client-markdown" supported; `content.description` required; `title`, `nextSteps`, `keywords`
 * optional; `metadata` (`threadId`, `summary`, `eventType`, `relatedResources`, `additionalContext` of
 * customer-provided string keys and string values) optional. Fields the event schema does not list are
 * refused here (`additionalProperties: false`): orgmfa relies on nothing undocumented. The guide states
 * no length limits; the bounds asserted below are orgmfa's own (docs/chat-digest.md).
 */
const CUSTOM_NOTIFICATION_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "Amazon Q Developer in chat applications custom notification (documented event schema)",
  type: "object",
  required: ["version", "source", "content"],
  additionalProperties: false,
  properties: {
    version: { type: "string", const: "1.0" },
    source: { type: "string", const: "custom" },
    id: { type: "string" },
    content: {
      type: "object",
      required: ["description"],
      additionalProperties: false,
      properties: {
        textType: { type: "string", const: "client-markdown" },
        title: { type: "string" },
        description: { type: "string" },
        nextSteps: { type: "array", items: { type: "string" } },
        keywords: { type: "array", items: { type: "string" } },
      },
    },
    metadata: {
      type: "object",
      additionalProperties: false,
      properties: {
        threadId: { type: "string" },
        summary: { type: "string" },
        eventType: { type: "string" },
        relatedResources: { type: "array", items: { type: "string" } },
        additionalContext: { type: "object", additionalProperties: { type: "string" } },
      },
    },
  },
} as const;
const validate = new Ajv({ allErrors: true, strict: true }).compile(CUSTOM_NOTIFICATION_SCHEMA);

/** Why a published chat message is not a documented custom notification within orgmfa's bounds (empty when it is). */
function problems(m: ChatMessage): string[] {
  const out: string[] = [];
  const parsed: unknown = JSON.parse(m.message);
  if (!validate(parsed))
    out.push(
      ...(validate.errors ?? []).map((e) => `${e.instancePath || "(top)"} ${e.message} ${JSON.stringify(e.params)}`),
    );
  expect(parsed).toEqual(m.notification);
  if (Buffer.byteLength(m.message, "utf8") >= SNS_MAX_BYTES) out.push("over SNS's 256 KB");
  if (m.notification.content.description.length > CHAT_DESCRIPTION_MAX_CHARS) out.push("description too long");
  if (m.notification.metadata?.threadId !== m.threadId) out.push("threadId differs");
  return out;
}

const LOCATION = "s3://b/orgmfa/scans/2026/11/21/scan-2/report.html";
const EXEMPTIONS: Exemption[] = [
  { account: "*", principal: "break-glass", checks: "*", reason: "key on order", expires: "2026-11-30" },
  { account: "*", principal: "old", checks: "*", reason: "was accepted", expires: "2026-11-01" },
];
const HOSTILE = "R&D <team> *ops* @here";

/**
 * Nine accounts over three OUs: one with no user, one hostile name, one that could not be audited (7),
 * one suspended (8); `shift` renames users so that a second scan has new and resolved findings.
 * (The e-mail golden values below were taken from this fixture with the digest as it was before the
 * chat digest existed: change it and they must be taken again from that version.)
 */
function smallOrg(usersPer: number, previous: ScanReport | null, shift = 0): ScanReport {
  const targets: AccountTarget[] = [];
  const outcomes = new Map<string, AccountOutcome>();
  for (let i = 0; i < 9; i++) {
    const accountId = String(100000000000 + i);
    targets.push({
      accountId,
      accountName: i === 4 ? HOSTILE : `acct-${i}`,
      ouPath: `Root/OU-${i % 3}`,
      owner: null,
      state: i === 8 ? "SUSPENDED" : "ACTIVE",
      skip: i === 8 ? "SUSPENDED" : null,
    });
    if (i === 8) continue;
    if (i === 7) {
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
      users: Array.from({ length: i === 0 ? 0 : usersPer + (i % 3) }, (_, u) => {
        const name = u === 0 && i === 1 ? "break-glass" : `user-${u + shift}`;
        return {
          ...user(name, {
            consoleAccess: true,
            passwordLastUsed: u % 2 ? "2026-11-20T09:00:00.000Z" : "2025-01-01T00:00:00.000Z",
          }),
          arn: `arn:aws:iam::${accountId}:user/${name}`,
        };
      }),
    });
  }
  return reportAt(targets, outcomes, {
    scanId: previous ? "scan-2" : "scan-1",
    policy: policyFromConfig({ exemptions: EXEMPTIONS }),
    previous,
  });
}
const before = smallOrg(3, null);
const after = smallOrg(2, before, 2);
const PROBLEMS = [{ target: "securityhub", message: "account 100000000003: InvalidAccessException: not subscribed" }];

/** `n` accounts over `ous` OUs with long, non-ASCII names, one console user without MFA each. */
function wideOrg(n: number, ous: number): ScanReport {
  const targets: AccountTarget[] = [];
  const outcomes = new Map<string, AccountOutcome>();
  for (let i = 0; i < n; i++) {
    const accountId = String(200000000000 + i);
    targets.push({
      accountId,
      accountName: `account-${i}-${"ü".repeat(40)}`,
      ouPath: `Root/Workloads/${"Ünit-".repeat(20)}${i % ous}`,
      owner: null,
      state: "ACTIVE",
      skip: null,
    });
    outcomes.set(accountId, {
      kind: "facts",
      accountId,
      partition: "aws",
      credentialReportGeneratedAt: NOW.toISOString(),
      collection: "REPORT_CONFIRMED_LIVE",
      notes: [],
      root: { ...root(), arn: `arn:aws:iam::${accountId}:root` },
      users: [{ ...user(`user-${"x".repeat(50)}`, { consoleAccess: true }), arn: `arn:aws:iam::${accountId}:user/u` }],
    });
  }
  return reportAt(targets, outcomes, { scanId: "wide" });
}

const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

describe("the e-mail digest", () => {
  it("is byte for byte what it was before the chat digest: subject and body", () => {
    const big = syntheticReport({ accounts: 10_000, users: 5, failEvery: 97, skipEvery: 101 });
    const cases = [
      [
        buildDigest(after, { now: NOW, exemptions: EXEMPTIONS, reportLocation: LOCATION, deliveryProblems: PROBLEMS }),
        "orgmfa: 18 users without MFA (1 exempted) in 6 of 8 accounts (6 new), 1 not audited",
        "978ddc481d4f7b575402804127aecb815431d1ce7ad770883603504c5ac97691",
        3164,
      ],
      [
        buildDigest(before, { now: NOW, exemptions: [], reportLocation: null }),
        "orgmfa: 24 users without MFA (1 exempted) in 6 of 8 accounts, 1 not audited",
        "cc982086b16c7f38996da2be41e1d1ce5fc51b9ad08ac3c3cf52c9a23dabddbb",
        1817,
      ],
      [
        buildDigest(big, {
          now: NOW,
          exemptions: [],
          reportLocation: "s3://orgmfa-reports/orgmfa/scans/2026/11/21/synthetic-scan/report.html",
        }),
        "orgmfa: 9994 users without MFA in 9798 of 9901 accounts, 103 not audited",
        "a5052c8121e62a41eabef0b813200c2f1a4da445934abeef54d766678b270b9c",
        6795,
      ],
    ] as const;
    for (const [d, subject, digest, size] of cases) {
      expect(d.subject).toBe(subject);
      expect(Buffer.byteLength(d.message, "utf8")).toBe(size);
      expect(sha256(d.message)).toBe(digest);
    }
    // The sections the chat digest now shares with it, as they read in the e-mail.
    const [small] = cases[0];
    expect(small.message).toContain(
      "Coverage 87.5%: 7 of 8 in-scope accounts audited, 1 failed, 1 skipped (9 listed).\n",
    );
    expect(small.message).toContain(
      "Top accounts by open findings:\n  - acct-2 (100000000002), Root/OU-2: 4 open (4 HIGH)\n  - acct-5 (100000000005), Root/OU-2: 4 open (4 HIGH)\n",
    );
  });
});

describe("the chat digest (Amazon Q Developer custom notification)", () => {
  it("is one documented custom notification in the organization's thread, with the e-mail digest's numbers", () => {
    const email = buildDigest(after, {
      now: NOW,
      exemptions: EXEMPTIONS,
      reportLocation: LOCATION,
      deliveryProblems: PROBLEMS,
    });
    const chat = buildChatDigest(after, { reportLocation: LOCATION, deliveryProblems: PROBLEMS });
    expect(chat).toHaveLength(1);
    const [m] = chat as [ChatMessage];
    expect(problems(m)).toEqual([]);
    const n = m.notification;
    expect(n.version).toBe("1.0");
    expect(n.source).toBe("custom");
    expect(n.content.textType).toBe("client-markdown");
    // The headline: the e-mail subject is the title, headlineText's sentences open the description.
    expect(n.content.title).toBe(email.subject);
    const h = headlineText(after);
    expect(n.content.description.startsWith(`${h.users}.\n${h.findings}.\nCoverage 87.5%: 7 of 8`)).toBe(true);
    expect(n.metadata?.summary).toBe(h.users);
    expect(n.metadata?.additionalContext?.usersWithoutMfa).toBe(String(headline(after).withoutMfa.total));
    expect(n.metadata?.additionalContext?.openFindings).toBe(String(headline(after).openFindings.total));
    // What changed, the worst accounts, what was not delivered, and the report where the e-mail says it is.
    const d = n.content.description;
    expect(d).toContain("New since scan scan-1 (6):\n• HIGH USER_CONSOLE_NO_MFA: `user-4` in `acct-1` (100000000001)");
    expect(d).toContain("Resolved since scan scan-1 (12):\n• USER_CONSOLE_NO_MFA: `user-1` in 100000000001");
    expect(d).toMatch(/\n {2}… and 7 more\n/);
    expect(d).toContain(
      "Worst accounts (open findings):\n• `acct-2` (100000000002), `Root/OU-2`: 4 open (4 HIGH)\n• `acct-5` (100000000005), `Root/OU-2`: 4 open (4 HIGH)",
    );
    expect(d).toContain(
      "Not audited (1) — their users' MFA is unknown:\n• `acct-7` (100000000007): ASSUME_ROLE_DENIED",
    );
    expect(d).toContain("Not delivered (1)");
    expect(email.message).toContain(`Full report: ${LOCATION}\n`);
    expect(d.endsWith(`\n\nFull report: ${LOCATION}`)).toBe(true);
    expect(n.content.nextSteps?.[0]).toBe(`Open the full report: ${LOCATION}`);
    expect(n.metadata?.relatedResources).toEqual(["arn:aws:s3:::b/orgmfa/scans/2026/11/21/scan-2/report.html"]);
    expect(n.metadata?.threadId).toBe("orgmfa-o-abcdefghij");
    expect(n.metadata?.eventType).toBe("orgmfa.scan.digest");
    expect(n.id).toBe("scan-2");
    expect(n.content.keywords).toEqual(["orgmfa", "HIGH", "not audited", "new findings"]);
  });

  it("never lets an organization's names mention, link or format", () => {
    const [m] = buildChatDigest(after, { reportLocation: LOCATION, listLimit: 25 }) as [ChatMessage];
    const d = m.notification.content.description;
    expect(d).toContain("`R＆D ‹team› ∗ops∗ ＠here` (100000000004)");
    expect(d).not.toContain(HOSTILE);
    expect(d).not.toMatch(/[<>&@]/);
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 12 }), (name, n) => {
        const targets: AccountTarget[] = [];
        const outcomes = new Map<string, AccountOutcome>();
        for (let i = 0; i < n; i++) {
          const accountId = String(100000000000 + i);
          targets.push({
            accountId,
            accountName: name,
            ouPath: `Root/${name}`,
            owner: null,
            state: "ACTIVE",
            skip: null,
          });
          outcomes.set(accountId, {
            kind: "facts",
            accountId,
            partition: "aws",
            credentialReportGeneratedAt: NOW.toISOString(),
            collection: "REPORT_CONFIRMED_LIVE",
            notes: [],
            root: { ...root(), arn: `arn:aws:iam::${accountId}:root` },
            users: [{ ...user(name.slice(0, 64), { consoleAccess: true }), arn: `arn:aws:iam::${accountId}:user/x` }],
          });
        }
        const r = reportAt(targets, outcomes, { scanId: "prop" });
        for (const threadBy of CHAT_THREAD_BY)
          for (const msg of buildChatDigest(r, { reportLocation: null, threadBy })) {
            expect(problems(msg)).toEqual([]);
            const text = msg.notification.content.description;
            expect(text).not.toMatch(/[<>&@]/);
            expect([...text].some((c) => c !== "\n" && (c.codePointAt(0) ?? 0) < 0x20)).toBe(false);
            expect(msg.notification.content.title ?? "").not.toMatch(/[<>&@`*~]/);
          }
      }),
      { numRuns: 60 },
    );
  });

  it("threads per OU: the organization's message, then one per OU with something to say, with their own numbers", () => {
    const chat = buildChatDigest(after, { reportLocation: LOCATION, threadBy: "ou" });
    expect(chat.map((m) => m.ouPath)).toEqual([null, "Root/OU-2", "Root/OU-1", "Root/OU-0"]);
    for (const m of chat) expect(problems(m)).toEqual([]);
    const threads = chat.map((m) => m.threadId);
    expect(new Set(threads).size).toBe(4);
    expect(threads[0]).toBe("orgmfa-o-abcdefghij");
    for (const t of threads.slice(1)) expect(t).toMatch(/^orgmfa-o-abcdefghij-ou-[0-9a-f]{16}$/);
    // The same OU keeps its thread from scan to scan.
    const again = buildChatDigest(before, { reportLocation: null, threadBy: "ou" });
    expect(new Map(again.map((m) => [m.ouPath, m.threadId]))).toEqual(new Map(chat.map((m) => [m.ouPath, m.threadId])));
    // The organization's message is the one of threadBy "organization", plus the list of OUs.
    const [org, ...ous] = chat as [ChatMessage, ...ChatMessage[]];
    expect(org.notification.content.title).toBe(digestSubject(after));
    expect(org.notification.content.description).toContain(
      "OUs with open findings, changes or accounts not audited (3) — each in its own thread:\n• `Root/OU-2`: 8 open, 2 new, 4 resolved",
    );
    // Each OU's numbers are the headline's of its own findings, and they add up to the organization's.
    const total = (k: "usersWithoutMfa" | "openFindings" | "newFindings" | "resolvedFindings") =>
      ous.reduce((sum, m) => sum + Number(m.notification.metadata?.additionalContext?.[k]), 0);
    const ctx = org.notification.metadata?.additionalContext ?? {};
    for (const k of ["usersWithoutMfa", "openFindings", "newFindings", "resolvedFindings"] as const)
      expect(total(k), k).toBe(Number(ctx[k]));
    const ou1 = ous.find((m) => m.ouPath === "Root/OU-1")?.notification;
    const ou1Findings = after.findings.filter((f) =>
      ["100000000001", "100000000004", "100000000007"].includes(f.accountId),
    );
    expect(ou1?.metadata?.additionalContext?.usersWithoutMfa).toBe(
      String(headline({ findings: ou1Findings }).withoutMfa.total),
    );
    expect(ou1?.content.title).toBe(
      "Root/OU-1 - orgmfa: 6 users without MFA (1 exempted) in 2 of 3 accounts (2 new), 1 not audited",
    );
    expect(
      ou1?.content.description.startsWith(
        "OU `Root/OU-1`\n\n6 users without MFA (6 IAM, 0 root; 1 exempted); 1 account not audited.\n",
      ),
    ).toBe(true);
    expect(ou1?.metadata?.eventType).toBe("orgmfa.scan.ou-digest");
    expect(ou1?.metadata?.additionalContext?.ouPath).toBe("Root/OU-1");
  });

  it("a scan that audited nothing is never an all-clear in chat either", () => {
    for (const r of [reportAt([], new Map(), { scanId: "nothing" }), smallOrg(1, null)].map((x, i) =>
      i === 0
        ? x
        : reportAt(
            [{ accountId: "100000000001", accountName: "a", ouPath: "Root", owner: null, state: "ACTIVE", skip: null }],
            new Map([
              [
                "100000000001",
                {
                  kind: "failure",
                  accountId: "100000000001",
                  reason: "ASSUME_ROLE_DENIED",
                  error: { code: "AccessDenied", message: "no" },
                } satisfies AccountOutcome,
              ],
            ]),
          ),
    )) {
      for (const m of buildChatDigest(r, { reportLocation: null, threadBy: "ou" })) {
        expect(problems(m)).toEqual([]);
        expect(m.notification.content.title).toMatch(/users without MFA unknown/);
        expect(m.notification.content.description).toMatch(/^(OU `Root`\n\n)?Users without MFA: unknown \(/);
        expect(m.notification.content.description).not.toMatch(/\b0 users without MFA/);
        expect(m.notification.metadata?.additionalContext?.usersWithoutMfa).toBe("unknown");
      }
    }
  });

  it("stays small at 10,000 accounts over 1,000 OUs: bounded lists, bounded messages", () => {
    const r = wideOrg(10_000, 1_000);
    const org = buildChatDigest(r, { reportLocation: LOCATION });
    expect(org).toHaveLength(1);
    const ou = buildChatDigest(r, { reportLocation: LOCATION, threadBy: "ou" });
    expect(ou).toHaveLength(26);
    for (const m of [...org, ...ou]) {
      expect(problems(m)).toEqual([]);
      expect(Buffer.byteLength(m.message, "utf8")).toBeLessThan(16 * 1024);
    }
    const d = ou[0]?.notification.content.description ?? "";
    expect(d).toContain("Worst accounts (open findings):");
    expect(d).toMatch(/… and \d+ more/);
    expect(d).toContain("975 OUs beyond the first 25 have no chat message this scan: see the report.");
    expect(ou[0]?.notification.content.title).toBe("orgmfa: 10000 users without MFA in 10000 of 10000 accounts");
    // And the synthetic organization of the e-mail's golden values.
    const big = syntheticReport({ accounts: 10_000, users: 5, failEvery: 97, skipEvery: 101 });
    for (const m of buildChatDigest(big, { reportLocation: LOCATION, threadBy: "ou" })) expect(problems(m)).toEqual([]);
  });

  it("is switched by the config's chatDigest: enabled and threadBy, organization or ou", () => {
    for (const threadBy of CHAT_THREAD_BY)
      expect(configSchema.safeParse({ chatDigest: { enabled: true, threadBy } }).success).toBe(true);
    expect(configSchema.safeParse({ chatDigest: {} }).success).toBe(true);
    const bad = configSchema.safeParse({ chatDigest: { threadBy: "account" } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('must be "organization" or "ou"');
    expect(configSchema.safeParse({ chatDigest: { topicArn: "arn:aws:sns:eu-west-1:1:x" } }).success).toBe(false);
  });
});
