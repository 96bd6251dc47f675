import http from "node:http";
import type net from "node:net";
import { buffer } from "node:stream/consumers";
import { AttachRolePolicyCommand, CreatePolicyCommand, DetachRolePolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import type { ScanReport } from "@orgmfa/core";
import { AUDIT_ROLE_NAME, accountAdminCredentials, REGION } from "@orgmfa/emulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmulatedOrg, startEmulatedOrg } from "./emulated-org";
import { runInProcess } from "./in-process";

// What real AWS answers and moto would not, end to end through the CLI under IAM enforcement:
// a credential report the audit role may not read (an SCP or a permissions boundary does this in
// AWS; here an explicit Deny on the role), and the scanner's own credentials expiring part-way.
let e: EmulatedOrg;
beforeAll(async () => {
  e = await startEmulatedOrg();
});
afterAll(async () => {
  await e?.emu.stop();
});

const scanJson = async (env: Record<string, string | undefined>, ...extra: string[]) => {
  const r = await runInProcess(["scan", "--org-role-arn", e.org.orgRoleArn, "--format", "json", ...extra], { env });
  return { ...r, report: r.stdout ? (JSON.parse(r.stdout) as ScanReport) : null };
};

/** What a person reads of an account's verdicts: each user's credentials and MFA, and each finding. */
const verdicts = (report: ScanReport | null, accountId: string) => {
  const account = report?.accounts.find((a) => a.accountId === accountId);
  return {
    status: account?.status,
    root: account?.root,
    users: (account?.users ?? []).map((u) => ({
      userName: u.userName,
      consoleAccess: u.consoleAccess,
      activeAccessKeys: u.activeAccessKeys,
      // Whether the user has MFA; the report path lists only the devices a verdict needs, the live
      // path every device, so the lists themselves differ by design.
      hasMfa: u.mfaDevices.length > 0 || u.mfaActive === true,
    })),
    findings: (report?.findings ?? [])
      .filter((f) => f.accountId === accountId)
      .map((f) => `${f.checkId}:${f.userName ?? "root"}:${f.status}`)
      .sort(),
  };
};

describe("an audit role that may not read the credential report", () => {
  it("is AUDITED through the live path, with the same verdicts, and says why", async () => {
    const payments = e.org.accounts["prod-payments"] ?? "";
    const before = await scanJson(e.env);
    expect(verdicts(before.report, payments).status).toBe("AUDITED");

    // As an SCP or a permissions boundary would: both report calls explicitly denied to the audit role.
    const admin = new IAMClient({
      endpoint: e.emu.endpoint,
      region: REGION,
      credentials: await e.asAdmin(() => accountAdminCredentials(e.emu.endpoint, payments)),
    });
    const policyArn = await e.asAdmin(async () => {
      const p = await admin.send(
        new CreatePolicyCommand({
          PolicyName: "DenyCredentialReport",
          PolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Deny",
                Action: ["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
                Resource: "*",
              },
            ],
          }),
        }),
      );
      const arn = p.Policy?.Arn ?? "";
      await admin.send(new AttachRolePolicyCommand({ RoleName: AUDIT_ROLE_NAME, PolicyArn: arn }));
      return arn;
    });
    try {
      const after = await scanJson(e.env);
      const account = after.report?.accounts.find((a) => a.accountId === payments);
      expect(account).toMatchObject({ status: "AUDITED", collection: "FULLY_LIVE", credentialReportGeneratedAt: null });
      expect(account?.notes?.join(" ")).toMatch(/Credential report unavailable \(AccessDenied/);
      expect(verdicts(after.report, payments)).toEqual(verdicts(before.report, payments));
      expect(verdicts(after.report, payments).findings.length).toBeGreaterThan(0);
      expect(after.code).toBe(before.code);
    } finally {
      await e.asAdmin(() =>
        admin.send(new DetachRolePolicyCommand({ RoleName: AUDIT_ROLE_NAME, PolicyArn: policyArn })),
      );
      admin.destroy();
    }
  });
});

describe("the scanner's own credentials refused part-way", () => {
  let proxy: http.Server;
  let stsEndpoint: string;
  /** Whose AssumeRole the expired session meets: every audit role, or the member accounts' only. */
  let expiredFor: "every audit role" | "member audit roles" = "member audit roles";
  beforeAll(async () => {
    // STS in front of the emulator that answers AssumeRole of an audit role as AWS does once the
    // caller's session has expired; everything else (GetCallerIdentity) goes through.
    const target = new URL(e.emu.endpoint);
    proxy = http.createServer(async (req, res) => {
      const body = await buffer(req);
      const form = new URLSearchParams(body.toString("utf8"));
      const roleArn = form.get("RoleArn") ?? "";
      const expired =
        form.get("Action") === "AssumeRole" &&
        roleArn.endsWith(`:role/${AUDIT_ROLE_NAME}`) &&
        (expiredFor === "every audit role" || roleArn !== e.org.orgRoleArn);
      if (expired) {
        res
          .writeHead(400, { "content-type": "text/xml" })
          .end(
            `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`,
          );
        return;
      }
      const up = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on("error", () => res.writeHead(502).end());
      up.end(body);
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", () => r()));
    stsEndpoint = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  });
  afterAll(() => {
    proxy.closeAllConnections();
    proxy.close();
  });

  it.each(["member audit roles", "every audit role"] as const)(
    "stop the scan with exit 2 and one message, not one ASSUME_ROLE_DENIED per account (%s)",
    async (which) => {
      expiredFor = which;
      const r = await scanJson({ ...e.env, AWS_ENDPOINT_URL_STS: stsEndpoint });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.match(/ExpiredToken/g)).toHaveLength(1);
      expect(r.stderr).toMatch(/credentials orgmfa runs as .* expired or are no longer valid/);
      expect(r.stderr).not.toMatch(/ASSUME_ROLE_DENIED|member template|trusts|\n\s+at /);
      if (which === "member audit roles") expect(r.stderr).toMatch(/no report was written/);
    },
  );
});
