import { SNS_MAX_BYTES } from "@orgmfa/render";
import { describe, expect, it } from "vitest";
import { type AppliedDecision, type ForwardingBacklog, type SweepAccount, sweepAnnouncement } from "../src";

// The message the Enforce sweep publishes: its own first line, a blank line, then the announcement's lines.
const message = (lines: string[]) =>
  `Scan 2026-01-01T06-00-00Z-abcdef. Record: s3://orgmfa-reports-example/orgmfa/runs/2026-01-01T06-00-00Z-abcdef/quarantine.json\n\n${lines.join("\n")}`;
const bytes = (s: string) => Buffer.byteLength(s, "utf8");

const accountId = (i: number) => String(100000000000 + i);
/** An account the enforcer role could not be assumed in: the message AWS and the sweep give, at full length. */
const notDeployed = (i: number): SweepAccount => ({
  accountId: accountId(i),
  accountName: `workload-${i}`,
  mode: "enforce",
  status: "not-deployed",
  error: {
    code: "AccessDenied",
    message: `the enforcer role cannot be assumed or used in ${accountId(i)} (User: arn:aws:sts::222222222222:assumed-role/OrgMfaEnforcer/orgmfa-enforce is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${accountId(i)}:role/OrgMfaQuarantineRole): deploy the member template there with EnableQuarantine=true, and run as the role its CentralEnforcerRoleName names`,
  },
  users: 0,
});
const quarantined = (i: number, userName: string): AppliedDecision => ({
  accountId: accountId(i),
  userName,
  mode: "enforce",
  quarantine: true,
  quarantined: false,
  action: { kind: "quarantine", via: "group" },
  reason: "console password without MFA",
  applied: true,
});

describe("sweepAnnouncement", () => {
  it("stays under SNS's 256 KB with 2,000 accounts not reconciled, and says how many it left out", () => {
    const accounts = Array.from({ length: 2000 }, (_, i) => notDeployed(i));
    const decisions = Array.from({ length: 2000 }, (_, i) => quarantined(i, `user-with-a-long-name-${i}@example.com`));
    const apiOnly = Object.fromEntries(accounts.map((a) => [a.accountId, ["ci-deploy", "terraform", "backup-agent"]]));
    // Uncapped (before the cap), this message was ~816 KB: Publish threw and failed every daily run after.
    const a = sweepAnnouncement({ accounts, decisions }, apiOnly);
    expect(a).not.toBeNull();
    const body = message(a?.lines ?? []);
    expect(bytes(body)).toBeLessThan(SNS_MAX_BYTES);
    const text = body.split("\n");
    // Each list is named with its full count, and ends with how many were left out.
    const shown = (title: RegExp) => {
      const start = text.findIndex((l) => title.test(l));
      expect(start, String(title)).toBeGreaterThan(-1);
      const rest = text.slice(start + 1);
      const end = rest.indexOf("");
      return end === -1 ? rest : rest.slice(0, end);
    };
    for (const [title, total] of [
      [/^Changes \(2000\):$/, 2000],
      [/^Accounts not reconciled \(2000\):$/, 2000],
      [/^API-only users without MFA \(6000\), never quarantined/, 6000],
    ] as const) {
      const lines = shown(title);
      const more = lines.at(-1)?.match(/^ {2}… and (\d+) more$/);
      expect(more, `${title}: ${lines.at(-1)}`).not.toBeNull();
      expect(lines.length - 1 + Number(more?.[1])).toBe(total);
    }
    expect(body).toContain(`${accountId(0)}: not reconciled — the enforcer role cannot be assumed`);
    expect(a?.subject).toBe("orgmfa quarantine: 2000 quarantined, 0 released, 0 pending");
  });

  it("shrinks the lists further when long lines would still not fit", () => {
    const accounts = Array.from({ length: 300 }, (_, i) => notDeployed(i));
    const a = sweepAnnouncement({ accounts, decisions: [] }, {}, { maxBytes: 20_000 });
    const body = (a?.lines ?? []).join("\n");
    expect(bytes(body)).toBeLessThanOrEqual(20_000);
    expect(body).toMatch(/^Accounts not reconciled \(300\):\n/);
    expect(body).toMatch(/\n {2}… and \d+ more$/);
  });

  it("lists everything, with nothing said left out, when it fits", () => {
    const a = sweepAnnouncement(
      { accounts: [notDeployed(1)], decisions: [quarantined(2, "alice")] },
      { [accountId(3)]: ["ci-deploy"] },
    );
    expect(a?.lines).toEqual([
      "Changes (1):",
      `${accountId(2)} alice: quarantined — console password without MFA`,
      "",
      "Accounts not reconciled (1):",
      `${accountId(1)}: not reconciled — ${notDeployed(1).error?.message}`,
      "",
      "API-only users without MFA (1), never quarantined — it would break their automation; give them MFA or roles:",
      `${accountId(3)} ci-deploy`,
    ]);
  });

  it("names the accounts whose IAM events were not forwarded, even when nothing changed; never one it could not read", () => {
    const reconciled = (i: number): SweepAccount => ({ ...notDeployed(i), status: "reconciled", error: null });
    const forwarding: ForwardingBacklog[] = [
      { accountId: accountId(1), events: 2, unknown: null },
      { accountId: accountId(2), events: 0, unknown: null },
      {
        accountId: accountId(3),
        events: null,
        unknown: { reason: "not-deployed", code: "QueueDoesNotExist", message: "The specified queue does not exist." },
      },
      { accountId: accountId(4), events: 1, unknown: null },
    ];
    const a = sweepAnnouncement(
      { accounts: [1, 2, 3, 4].map(reconciled), decisions: [], forwarding },
      { [accountId(5)]: ["ci-deploy"] },
    );
    expect(a?.subject).toBe("orgmfa quarantine: 0 quarantined, 0 released, 0 pending, 3 IAM events not forwarded");
    expect(a?.lines).toEqual([
      "IAM events not forwarded to the central bus (2 accounts, 3 IAM events), kept in each account's orgmfa-forward-iam-events-dlq (us-east-1) — fix the forwarding (the central bus's policy, the account's forwarding role), then purge the queue (the daily sweep has reconciled those accounts' users already):",
      `${accountId(1)} (workload-1): 2 IAM events not forwarded`,
      `${accountId(4)} (workload-4): 1 IAM event not forwarded`,
      "",
      "API-only users without MFA (1), never quarantined — it would break their automation; give them MFA or roles:",
      `${accountId(5)} ci-deploy`,
    ]);
    // Queues that are empty or could not be read (most: no forwarding there) say nothing.
    expect(sweepAnnouncement({ accounts: [], decisions: [], forwarding: forwarding.slice(1, 3) }, {})).toBeNull();
  });

  it("caps the accounts not forwarding as it caps every list (the whole organization's forwarding broken)", () => {
    const forwarding = Array.from(
      { length: 10_000 },
      (_, i): ForwardingBacklog => ({
        accountId: accountId(i),
        events: 185,
        unknown: null,
      }),
    );
    const a = sweepAnnouncement({ accounts: [], decisions: [], forwarding }, {}, { maxBytes: 20_000 });
    const body = (a?.lines ?? []).join("\n");
    expect(bytes(body)).toBeLessThanOrEqual(20_000);
    expect(body).toMatch(/^IAM events not forwarded to the central bus \(10000 accounts, 1850000 IAM events\)/);
    expect(body).toMatch(/\n {2}… and \d+ more$/);
    expect(a?.subject).toBe(
      "orgmfa quarantine: 0 quarantined, 0 released, 0 pending, 1850000 IAM events not forwarded",
    );
  });

  it("says nothing when nothing changed and every account was reconciled", () => {
    expect(sweepAnnouncement({ accounts: [], decisions: [] }, { [accountId(3)]: ["ci-deploy"] })).toBeNull();
  });

  it("keeps the subject to what SNS accepts: printable ASCII, under 100 characters", () => {
    const many = Array.from({ length: 3 }, (_, i) => quarantined(i, `u${i}`));
    const subject = sweepAnnouncement({ accounts: [], decisions: many }, {})?.subject ?? "";
    expect(subject.length).toBeLessThan(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });
});
