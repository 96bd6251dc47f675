import { randomBytes } from "node:crypto";
import type { Caller, MotoControl } from "./control";
import type { EmulatedRootState } from "./org-spec";
import { allowed } from "./policy";

// sts:AssumeRoot and the root sessions it opens, as AWS answers them (docs/aws-semantics.md §3; moto
// has neither): who may open one, with which task policy, for how long, and what the session may read.

const REQUEST_ID = "00000000-0000-0000-0000-000000000000";
const XMLNS_IAM = "https://iam.amazonaws.com/doc/2010-05-08/";
const XMLNS_STS = "https://sts.amazonaws.com/doc/2011-06-15/";

/** A root session the gateway opened. */
export interface RootSession {
  account: string;
  taskPolicyArn: string;
  expires: number;
  /** The session token handed out with the key: a request must carry it (X-Amz-Security-Token). */
  sessionToken: string;
}

export interface Answer {
  status: number;
  xml: string;
}

const error = (ns: string, status: number, code: string, message: string): Answer => ({
  status,
  xml: `<ErrorResponse xmlns="${ns}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${REQUEST_ID}</RequestId></ErrorResponse>`,
});
const ok = (action: string, ns: string, result: string): Answer => ({
  status: 200,
  xml: `<${action}Response xmlns="${ns}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${REQUEST_ID}</RequestId></ResponseMetadata></${action}Response>`,
});

/** The AWS managed task policies AssumeRoot takes (IAM User Guide, AWS managed policies, root-task/). */
const TASK_POLICIES = [
  "IAMAuditRootUserCredentials",
  "IAMCreateRootUserPassword",
  "IAMDeleteRootUserCredentials",
  "S3UnlockBucketPolicy",
  "SQSUnlockQueuePolicy",
];
/** What IAMAuditRootUserCredentials leaves allowed, on root only (GetAccountSummary: on "*"). */
const AUDIT_ACTIONS = new Set([
  "GetAccountSummary",
  "GetLoginProfile",
  "ListAccessKeys",
  "ListSigningCertificates",
  "ListMFADevices",
  "GetUser",
  "GetAccessKeyLastUsed",
]);

/** Root's devices: as declared, or one hardware TOTP token when MFA is on and none are named. */
export function rootDevicesOf(account: string, root: EmulatedRootState): string[] {
  return root.devices ?? (root.mfa ? [`GAHT${account.slice(-8)}`] : []);
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
const CREATED = Date.UTC(2024, 0, 15);

/**
 * sts:AssumeRoot (STS API Reference, AssumeRoot): only an IAM principal of the organization's
 * management account or of IAM's delegated administrator, never root credentials; only where
 * centralized root access with root sessions is enabled (the emulator requires `RootSessions`:
 * AWS names no feature, and the stricter reading is the one a test can trust); TargetPrincipal a
 * member account of the same organization (not the management account); TaskPolicyArn one of the
 * root-task policies; DurationSeconds at most 900; and the caller's identity policy must allow
 * sts:AssumeRoot on the target's root (condition key sts:TaskPolicyArn), judged by the policy engine.
 */
export async function assumeRoot(
  form: URLSearchParams,
  caller: Caller,
  features: { enabled: string[]; iamTrustedAccess: boolean },
  control: Pick<MotoControl, "accountOrg">,
  sessions: Map<string, RootSession>,
): Promise<Answer> {
  const target = (form.get("TargetPrincipal") ?? "").replace(/^arn:[^:]+:iam::(\d{12}):root$/, "$1");
  const taskPolicyArn = form.get("TaskPolicyArn.arn") ?? "";
  const duration = Number(form.get("DurationSeconds") ?? "900");
  const who = caller.sessionArn ?? caller.arn;
  const denied = (why: string) =>
    error(
      XMLNS_STS,
      403,
      "AccessDenied",
      `User: ${who} is not authorized to perform: sts:AssumeRoot on resource: arn:aws:iam::${target}:root (${why})`,
    );
  if (!caller.known && caller.enforced)
    return error(XMLNS_STS, 403, "InvalidClientTokenId", "The security token included in the request is invalid.");
  if (!/^\d{12}$/.test(target))
    return error(XMLNS_STS, 400, "ValidationError", "TargetPrincipal must be a member account id or its root ARN");
  const name = /^arn:[^:]+:iam::aws:policy\/root-task\/([\w]+)$/.exec(taskPolicyArn)?.[1];
  if (!name || !TASK_POLICIES.includes(name))
    return error(
      XMLNS_STS,
      400,
      "ValidationError",
      `TaskPolicyArn ${taskPolicyArn || "(none)"} is not a root-task policy`,
    );
  if (!Number.isInteger(duration) || duration < 0 || duration > 900)
    return error(XMLNS_STS, 400, "ValidationError", "DurationSeconds must be between 0 and 900");
  if (caller.type === "Account") return denied("root user credentials cannot call AssumeRoot");
  const org = caller.org;
  if (!org || (caller.account !== org.managementAccountId && !org.iamDelegatedAdministrators.includes(caller.account)))
    return denied("not the management account or IAM's delegated administrator");
  if (!features.iamTrustedAccess || !features.enabled.includes("RootSessions"))
    return denied("centralized root access (root sessions) is not enabled for the organization");
  if (target === org.managementAccountId) return denied("the management account's root cannot be assumed");
  if ((await control.accountOrg(target))?.id !== org.id)
    return denied("the account is not a member of the organization");
  if (caller.enforced) {
    // Judged on the caller's identity policy alone: a member account's root has no resource policy to
    // grant it (STS itself limits AssumeRoot to the organization's members, checked above), so the
    // request is evaluated as the caller's own account's, not as a cross-account one.
    const verdict = await allowed(caller, "sts:AssumeRoot", `arn:aws:iam::${target}:root`, caller.account, {
      "sts:TaskPolicyArn": taskPolicyArn,
    });
    if (verdict === false) return denied("no identity-based policy allows the sts:AssumeRoot action");
  }
  const key = `ASIAROOT${randomBytes(6).toString("hex").toUpperCase()}`;
  const expires = Date.now() + (duration || 900) * 1000;
  const sessionToken = randomBytes(32).toString("base64");
  sessions.set(key, { account: target, taskPolicyArn, expires, sessionToken });
  return ok(
    "AssumeRoot",
    XMLNS_STS,
    `<Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>${randomBytes(20).toString("base64")}</SecretAccessKey><SessionToken>${sessionToken}</SessionToken><Expiration>${iso(expires)}</Expiration></Credentials><SourceIdentity>${who.split("/").pop() ?? ""}</SourceIdentity>`,
  );
}

/**
 * An IAM request signed by a root session: what the task policy leaves allowed, answered from the
 * account's declared root state (root's own credentials and devices; no user name, which in a root
 * session means root); everything else is AccessDenied, as the task policy denies it.
 */
export function rootSessionIam(
  action: string,
  form: URLSearchParams,
  session: RootSession,
  root: EmulatedRootState,
  /** The request's X-Amz-Security-Token: the key alone, without its token, is refused as AWS refuses it. */
  securityToken: string | undefined,
): Answer {
  const arn = `arn:aws:iam::${session.account}:root`;
  if (securityToken !== session.sessionToken)
    return error(XMLNS_IAM, 403, "InvalidClientTokenId", "The security token included in the request is invalid.");
  if (session.expires < Date.now())
    return error(XMLNS_IAM, 403, "ExpiredToken", "The security token included in the request is expired");
  const allowedHere = session.taskPolicyArn.endsWith("/IAMAuditRootUserCredentials") && AUDIT_ACTIONS.has(action);
  if (!allowedHere || (form.get("UserName") ?? "") !== "")
    return error(
      XMLNS_IAM,
      403,
      "AccessDenied",
      `User: arn:aws:sts::${session.account}:root is not authorized to perform: iam:${action} on resource: ${form.get("UserName") ? `arn:aws:iam::${session.account}:user/${form.get("UserName")}` : arn} with an explicit deny in a session policy`,
    );
  const devices = rootDevicesOf(session.account, root);
  switch (action) {
    case "GetLoginProfile":
      return root.password
        ? ok(
            action,
            XMLNS_IAM,
            `<LoginProfile><CreateDate>${iso(CREATED)}</CreateDate><PasswordResetRequired>false</PasswordResetRequired></LoginProfile>`,
          )
        : error(XMLNS_IAM, 404, "NoSuchEntity", "Login Profile for User root cannot be found.");
    case "ListAccessKeys":
      return ok(
        action,
        XMLNS_IAM,
        `<AccessKeyMetadata>${root.accessKeys ? `<member><AccessKeyId>AKIAROOT${session.account}</AccessKeyId><Status>Active</Status><CreateDate>${iso(CREATED)}</CreateDate></member>` : ""}</AccessKeyMetadata><IsTruncated>false</IsTruncated>`,
      );
    case "ListSigningCertificates":
      return ok(
        action,
        XMLNS_IAM,
        `<Certificates>${root.signingCertificates ? `<member><CertificateId>ROOTCERT${session.account}</CertificateId><CertificateBody>-----BEGIN CERTIFICATE-----</CertificateBody><Status>Active</Status><UploadDate>${iso(CREATED)}</UploadDate></member>` : ""}</Certificates><IsTruncated>false</IsTruncated>`,
      );
    case "ListMFADevices":
      return ok(
        action,
        XMLNS_IAM,
        `<MFADevices>${devices.map((d) => `<member><SerialNumber>${d}</SerialNumber><EnableDate>${iso(CREATED)}</EnableDate></member>`).join("")}</MFADevices><IsTruncated>false</IsTruncated>`,
      );
    case "GetAccountSummary": {
      const entry = (k: string, v: boolean) => `<entry><key>${k}</key><value>${v ? 1 : 0}</value></entry>`;
      return ok(
        action,
        XMLNS_IAM,
        `<SummaryMap>${entry("AccountPasswordPresent", root.password)}${entry("AccountAccessKeysPresent", root.accessKeys)}${entry("AccountSigningCertificatesPresent", root.signingCertificates === true)}${entry("AccountMFAEnabled", devices.length > 0)}</SummaryMap>`,
      );
    }
    case "GetUser":
      return ok(
        action,
        XMLNS_IAM,
        `<User><UserId>${session.account}</UserId><Arn>${arn}</Arn><CreateDate>${iso(CREATED)}</CreateDate></User>`,
      );
    default:
      return error(XMLNS_IAM, 400, "InvalidAction", `${action} is not emulated for root sessions`);
  }
}

/**
 * ListVirtualMFADevices through any IAM principal of the account: root's virtual devices (serials
 * `arn:…:mfa/…`) are listed with `User.Arn` = the root ARN, as IAM lists them (moto has no root
 * devices); root's other devices never appear. Added to the first page only.
 */
export function withRootVirtualDevices(
  xml: string,
  form: URLSearchParams,
  account: string,
  root: EmulatedRootState,
): string {
  if (form.get("Marker")) return xml;
  const status = form.get("AssignmentStatus") ?? "Any";
  if (status === "Unassigned") return xml;
  const members = rootDevicesOf(account, root)
    .filter((d) => d.includes(":mfa/"))
    .map(
      (d) =>
        `<member><SerialNumber>${d}</SerialNumber><User><UserId>${account}</UserId><Arn>arn:aws:iam::${account}:root</Arn><CreateDate>${iso(CREATED)}</CreateDate></User><EnableDate>${iso(CREATED)}</EnableDate></member>`,
    )
    .join("");
  if (!members) return xml;
  if (/<VirtualMFADevices\s*\/>/.test(xml))
    return xml.replace(/<VirtualMFADevices\s*\/>/, `<VirtualMFADevices>${members}</VirtualMFADevices>`);
  return xml.replace("</VirtualMFADevices>", `${members}</VirtualMFADevices>`);
}
