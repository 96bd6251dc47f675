import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CredentialReportFormatError, parseCredentialReport, rootFacts } from "../src";
import { ACCOUNT, HEADER, reportRow } from "./fixtures";

const doc = (...rows: string[]) => [HEADER, ...rows].join("\n");

describe("credential report parser", () => {
  it("reads users by header name and separates the <root_account> row", () => {
    const r = parseCredentialReport(
      doc(
        reportRow({ user: "<root_account>", password: "not_supported", mfa: true }),
        reportRow({ user: "alice", password: "true", key1: true }),
      ),
    );
    expect(r.root?.arn).toBe(`arn:aws:iam::${ACCOUNT}:root`);
    expect(r.users).toHaveLength(1);
    expect(r.users[0]).toMatchObject({
      user: "alice",
      passwordEnabled: true,
      mfaActive: false,
      activeAccessKeys: 1,
      activeCertificates: 0,
    });
    expect(r.users[0]?.passwordLastUsed).toBe("2026-11-20T08:00:00.000Z");
  });

  it.each([
    ["true", true],
    ["false", false],
    ["not_supported", null],
  ] as const)("root row with password_enabled=%s", (pw, expected) => {
    const r = parseCredentialReport(doc(reportRow({ user: "<root_account>", password: pw, key1: false })));
    expect(r.root?.passwordEnabled).toBe(expected);
    const state = rootFacts({
      arn: `arn:aws:iam::${ACCOUNT}:root`,
      summary: null,
      reportRow: r.root,
      virtualDevices: [],
    });
    expect(state.credentials).toBe(pw === "true" ? "PRESENT" : pw === "false" ? "ABSENT" : "UNKNOWN");
    expect(state.source).toBe("CredentialReport");
  });

  it("tolerates a BOM, CRLF line ends, upper-case booleans, extra and missing columns", () => {
    const text = `\uFEFFUser,ARN,password_enabled,MFA_ACTIVE,access_key_1_active,some_future_column\r\nbob,arn:aws:iam::${ACCOUNT}:user/bob,TRUE,False,TRUE,x\r\n`;
    const r = parseCredentialReport(new TextEncoder().encode(text));
    expect(r.users).toEqual([
      {
        user: "bob",
        arn: `arn:aws:iam::${ACCOUNT}:user/bob`,
        createdAt: null,
        passwordEnabled: true,
        passwordLastUsed: null,
        mfaActive: false,
        activeAccessKeys: 1,
        activeCertificates: null,
      },
    ]);
  });

  it("turns N/A, no_information and not_supported into null", () => {
    const text = `user,arn,password_enabled,password_last_used,mfa_active\ncarol,arn:aws:iam::${ACCOUNT}:user/carol,true,no_information,N/A\n`;
    const [u] = parseCredentialReport(text).users;
    expect(u?.passwordLastUsed).toBeNull();
    expect(u?.mfaActive).toBeNull();
  });

  it("rejects a document without user/arn columns with a clear error", () => {
    expect(() => parseCredentialReport("name,id\nx,y\n")).toThrow(CredentialReportFormatError);
  });

  it("rejects a broken quote instead of reading the rows it swallows as one user", () => {
    const text = doc(`"dave,arn:aws:iam::${ACCOUNT}:user/dave,true`, reportRow({ user: "erin", password: "true" }));
    expect(() => parseCredentialReport(text)).toThrow(/has no ARN/);
  });

  it("round-trips any set of users (property)", () => {
    const name = fc.stringMatching(/^[A-Za-z0-9+=,.@_-]{1,64}$/).filter((s) => s !== "<root_account>");
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ name, pw: fc.boolean(), mfa: fc.boolean(), k1: fc.boolean(), k2: fc.boolean() }), {
          selector: (r) => r.name,
          maxLength: 20,
        }),
        fc.boolean(),
        (rows, crlf) => {
          const text = [
            HEADER,
            ...rows.map((r) =>
              reportRow({ user: r.name, password: r.pw ? "true" : "false", mfa: r.mfa, key1: r.k1, key2: r.k2 }),
            ),
          ].join(crlf ? "\r\n" : "\n");
          const parsed = parseCredentialReport(text);
          expect(parsed.users.map((u) => u.user)).toEqual(rows.map((r) => r.name));
          parsed.users.forEach((u, i) => {
            const r = rows[i];
            expect(u.passwordEnabled).toBe(r?.pw);
            expect(u.mfaActive).toBe(r?.mfa);
            expect(u.activeAccessKeys).toBe(Number(r?.k1) + Number(r?.k2));
          });
        },
      ),
    );
  });
});
