import http from "node:http";
import { buffer } from "node:stream/consumers";
import { type Caller, motoControl } from "./control";
import type { EmulatedRootState } from "./org-spec";
import { allowed } from "./policy";
import { assumeRoot, type RootSession, rootDevicesOf, rootSessionIam, withRootVirtualDevices } from "./root-sessions";

/** What the emulator's gateway keeps beside moto. */
export interface GatewayState {
  roots: Map<string, EmulatedRootState>;
  features: string[];
  iamTrustedAccess: boolean;
  reportAges: Map<string, number>;
  /** When each account's credential report was generated (IAM makes a new one after four hours). */
  generated: Map<string, number>;
  reportGenerationMs: number;
  /** The account of each AssumeRole-issued key. */
  keyAccount: Map<string, string>;
  /** The root sessions AssumeRoot opened, by access key (root-sessions.ts). */
  rootSessions: Map<string, RootSession>;
}

const REQUEST_ID = "00000000-0000-0000-0000-000000000000";
const STS_DENIED = (roleArn: string, callerArn = "the caller") =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: ${callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}</Message></Error><RequestId>${REQUEST_ID}</RequestId></ErrorResponse>`;
/** An IAM Query API error, as IAM writes it. */
const IAM_ERROR = (code: string, message: string) =>
  `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>${REQUEST_ID}</RequestId></ErrorResponse>`;

/** Sends the request to moto unchanged (same headers, so signatures still verify). */
function forward(
  motoUrl: string,
  req: http.IncomingMessage,
  body: Buffer,
  judged?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const target = new URL(motoUrl);
  return new Promise((resolve, reject) => {
    const up = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: {
          ...withoutFraming(req.headers),
          "content-length": String(body.length),
          ...(judged ? { "x-orgmfa-judged": judged } : {}),
        },
      },
      (r) => {
        buffer(r).then((b) => resolve({ status: r.statusCode ?? 502, headers: r.headers, body: b }), reject);
      },
    );
    up.on("error", reject);
    up.end(body);
  });
}

/** Request headers without hop-by-hop framing (the body is re-sent whole, with its length). */
function withoutFraming(headers: http.IncomingHttpHeaders): http.IncomingHttpHeaders {
  const { "transfer-encoding": _te, connection: _c, expect: _e, ...rest } = headers;
  return rest;
}

/** moto's account for credentials it does not know (the emulator's default identity). */
const DEFAULT_ACCOUNT = "123456789012";

function accessKeyOf(req: http.IncomingMessage): string | null {
  const auth = req.headers.authorization ?? "";
  return /Credential=([A-Z0-9]+)\//.exec(auth)?.[1] ?? null;
}

/**
 * The gateway adds to moto the AWS behaviours it lacks and orgmfa depends on:
 * - STS AssumeRole is judged as AWS judges it (with IAM enforcement on): the TARGET role's trust policy
 *   (principals, aws:PrincipalArn — a session's role ARN with its path —, aws:PrincipalOrgID,
 *   aws:PrincipalAccount, sts:ExternalId…) and the caller's identity policy (aws:ResourceOrgID…), by a
 *   real policy engine; moto looked the role up in the caller's account (so it never judged another
 *   account's trust policy). A role that does not exist is refused whether enforcement is on or off.
 * - STS AssumeRoot opens root sessions as AWS does, and IAM requests signed by one are answered from
 *   the account's declared root state, within the task policy (root-sessions.ts);
 * - ListVirtualMFADevices lists root's declared virtual devices (moto has no root devices);
 * - GetAccountSummary reports the root credential state declared for an account
 *   (moto always says root has no MFA and omits AccountPasswordPresent);
 * - IAM ListOrganizationsFeatures answers (moto does not implement it) only the organization's
 *   management account or IAM's delegated administrator, with AWS's errors otherwise;
 * - the credential report is a snapshot taken when it is generated (again only when the last one is
 *   more than four hours old), in progress for a while after that, dated when it was generated and
 *   with the `<root_account>` row first (moto built it when read, dated 2015, without root).
 * (Same-account AssumeRole outside the gateway, and every other patch of moto, are in python/orgmfa_moto.)
 * Everything else passes through untouched, byte for byte.
 */
export function startGateway(motoUrl: string, state: GatewayState, secret: string): Promise<http.Server> {
  const control = motoControl(motoUrl);
  const callerOf = (req: http.IncomingMessage) => control.caller(accessKeyOf(req));
  const send = (res: http.ServerResponse, status: number, xml: string) =>
    res.writeHead(status, { "content-type": "text/xml" }).end(xml);

  const server = http.createServer(async (req, res) => {
    try {
      // Only the gateway may say a request was judged.
      delete req.headers["x-orgmfa-judged"];
      const body = await buffer(req);
      const form = (req.headers["content-type"] ?? "").includes("x-www-form-urlencoded")
        ? new URLSearchParams(body.toString("utf8"))
        : null;
      const action = form?.get("Action");
      const rootSession = state.rootSessions.get(accessKeyOf(req) ?? "");
      if (rootSession && form && action) {
        const root = state.roots.get(rootSession.account) ?? { password: false, accessKeys: false, mfa: false };
        const token = req.headers["x-amz-security-token"];
        const answer = rootSessionIam(action, form, rootSession, root, Array.isArray(token) ? token[0] : token);
        send(res, answer.status, answer.xml);
        return;
      }
      if (action === "AssumeRoot" && form) {
        const answer = await assumeRoot(
          form,
          await callerOf(req),
          { enabled: state.features, iamTrustedAccess: state.iamTrustedAccess },
          control,
          state.rootSessions,
        );
        send(res, answer.status, answer.xml);
        return;
      }
      if (action === "ListOrganizationsFeatures") {
        const caller = await callerOf(req);
        if (caller.enforced && !caller.known) {
          // moto refuses the key (InvalidClientTokenId), as AWS would.
        } else {
          if (
            caller.enforced &&
            (await allowed(caller, "iam:ListOrganizationsFeatures", "*", caller.account, {})) === false
          ) {
            send(
              res,
              403,
              IAM_ERROR(
                "AccessDenied",
                `User: ${caller.sessionArn ?? caller.arn} is not authorized to perform: iam:ListOrganizationsFeatures on resource: *`,
              ),
            );
            return;
          }
          const refusal = organizationsFeaturesRefusal(caller, state);
          if (refusal) {
            send(res, 400, IAM_ERROR(refusal.code, refusal.message));
            return;
          }
          const members = state.features.map((f) => `<member>${f}</member>`).join("");
          send(
            res,
            200,
            `<?xml version="1.0" encoding="UTF-8"?>\n<ListOrganizationsFeaturesResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ListOrganizationsFeaturesResult><OrganizationId>${caller.org?.id}</OrganizationId><EnabledFeatures>${members}</EnabledFeatures></ListOrganizationsFeaturesResult><ResponseMetadata><RequestId>${REQUEST_ID}</RequestId></ResponseMetadata></ListOrganizationsFeaturesResponse>`,
          );
          return;
        }
      }
      let judged = false;
      if (action === "AssumeRole") {
        const roleArn = form?.get("RoleArn") ?? "";
        const role = await control.role(roleArn);
        if (!role) {
          send(res, 403, STS_DENIED(roleArn));
          return;
        }
        const caller = await callerOf(req);
        if (caller.enforced && caller.known) {
          const extra: Record<string, string> = { "aws:ResourceAccount": role.account };
          if (role.org) extra["aws:ResourceOrgID"] = role.org.id;
          const externalId = form?.get("ExternalId");
          if (externalId) extra["sts:ExternalId"] = externalId;
          const sessionName = form?.get("RoleSessionName");
          if (sessionName) extra["sts:RoleSessionName"] = sessionName;
          const verdict = await allowed(caller, "sts:AssumeRole", role.arn, role.account, extra, role.trustPolicy);
          if (verdict === false) {
            send(res, 403, STS_DENIED(roleArn, caller.sessionArn ?? caller.arn));
            return;
          }
          judged = verdict === true;
        }
      }
      // GetCredentialReport and GenerateCredentialReport are answered below from what moto says
      // (authorisation) and the gateway's clock.
      const upstream = await forward(motoUrl, req, body, judged ? secret : undefined);
      let payload = upstream.body;
      let status = upstream.status;
      const ok = upstream.status >= 200 && upstream.status < 300;
      if (action === "AssumeRole" && ok) {
        const key = /<AccessKeyId>([^<]+)<\/AccessKeyId>/.exec(payload.toString("utf8"))?.[1];
        const account = /arn:[^:]+:iam::(\d{12}):role\//.exec(form?.get("RoleArn") ?? "")?.[1];
        if (key && account) state.keyAccount.set(key, account);
      }
      const account = state.keyAccount.get(accessKeyOf(req) ?? "") ?? DEFAULT_ACCOUNT;
      const now = Date.now();
      if (action === "GenerateCredentialReport" && ok) {
        const at = state.generated.get(account);
        let reportState: string;
        // IAM generates anew only when the last report is more than four hours old (as declared, too).
        if (at === undefined || now - at + (state.reportAges.get(account) ?? 0) > 4 * 3600_000) {
          const root = state.roots.get(account) ?? { password: false, accessKeys: false, mfa: false };
          await control.snapshotCredentialReport(account, root);
          state.generated.set(account, now);
          state.reportAges.delete(account);
          reportState = "STARTED";
        } else reportState = now - at < state.reportGenerationMs ? "INPROGRESS" : "COMPLETE";
        payload = Buffer.from(
          `<GenerateCredentialReportResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GenerateCredentialReportResult><State>${reportState}</State>${reportState === "STARTED" ? "<Description>No report exists. Starting a new report generation task</Description>" : ""}</GenerateCredentialReportResult><ResponseMetadata><RequestId>${REQUEST_ID}</RequestId></ResponseMetadata></GenerateCredentialReportResponse>`,
        );
      }
      if (action === "GetCredentialReport") {
        const at = state.generated.get(account);
        if (ok && at !== undefined && now - at < state.reportGenerationMs) {
          send(res, 404, IAM_ERROR("ReportInProgress", "Report generation in progress"));
          return;
        }
        if (!ok && /<Code>ReportNotPresent<\/Code>/.test(payload.toString("utf8"))) status = 410;
        if (ok) {
          const shown = (at ?? now) - (state.reportAges.get(account) ?? 0);
          const when = new Date(Math.floor(shown / 1000) * 1000).toISOString().replace(".000Z", "Z");
          payload = Buffer.from(
            payload
              .toString("utf8")
              .replace(/<GeneratedTime>[^<]*<\/GeneratedTime>/, `<GeneratedTime>${when}</GeneratedTime>`),
          );
        }
      }
      if (action === "GetAccountSummary" && ok) {
        const key = accessKeyOf(req);
        const root = key ? state.roots.get(state.keyAccount.get(key) ?? "") : undefined;
        if (root) payload = Buffer.from(patchSummary(payload.toString("utf8"), root, account));
      }
      if (action === "ListVirtualMFADevices" && ok && form) {
        const root = state.roots.get(account);
        if (root) payload = Buffer.from(withRootVirtualDevices(payload.toString("utf8"), form, account, root));
      }
      const headers = { ...upstream.headers };
      delete headers["content-length"];
      delete headers["transfer-encoding"];
      delete headers.connection;
      res.writeHead(status, { ...headers, "content-length": String(payload.length) }).end(payload);
    } catch (e) {
      res.writeHead(502, { "content-type": "text/plain" }).end(`emulator gateway: ${(e as Error).message}`);
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/**
 * Why IAM refuses ListOrganizationsFeatures to this caller, or null (IAM API Reference,
 * ListOrganizationsFeatures, Errors: all HTTP 400).
 */
function organizationsFeaturesRefusal(caller: Caller, state: GatewayState): { code: string; message: string } | null {
  const org = caller.org;
  if (!org)
    return {
      code: "OrganizationNotFoundException",
      message: "The request was rejected because no organization is associated with your account.",
    };
  if (org.featureSet !== "ALL")
    return {
      code: "OrganizationNotInAllFeaturesModeException",
      message: "The request was rejected because your organization does not have All features enabled.",
    };
  if (caller.account !== org.managementAccountId && !org.iamDelegatedAdministrators.includes(caller.account))
    return {
      code: "AccountNotManagementOrDelegatedAdministratorException",
      message:
        "The request was rejected because the account making the request is not the management account or delegated administrator account for centralized root access.",
    };
  if (!state.iamTrustedAccess)
    return {
      code: "ServiceAccessNotEnabledException",
      message: "The request was rejected because trusted access is not enabled for IAM in Organizations.",
    };
  return null;
}

function patchSummary(xml: string, s: EmulatedRootState, account: string): string {
  const set = (doc: string, key: string, value: number) => {
    const re = new RegExp(`<entry>\\s*<key>${key}</key>\\s*<value>\\d+</value>\\s*</entry>`);
    const entry = `<entry><key>${key}</key><value>${value}</value></entry>`;
    return re.test(doc) ? doc.replace(re, entry) : doc.replace("</SummaryMap>", `${entry}</SummaryMap>`);
  };
  let out = set(xml, "AccountPasswordPresent", s.password ? 1 : 0);
  out = set(out, "AccountAccessKeysPresent", s.accessKeys ? 1 : 0);
  out = set(out, "AccountSigningCertificatesPresent", s.signingCertificates ? 1 : 0);
  return set(out, "AccountMFAEnabled", rootDevicesOf(account, s).length > 0 ? 1 : 0);
}
