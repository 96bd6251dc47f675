import { CREATED, ORG_ID, type SimAccounts, type SimUser, simUser } from "./sim-accounts";
import {
  isoSeconds,
  queryAnswer,
  queryError,
  queryForm,
  type SimAnswer,
  SimError,
  type SimRequest,
  type SimService,
} from "./sim-wire";

/**
 * IAM for the simulated AWS, over the query protocol, in the account the request's credentials act
 * in: the account's generated users (ListUsers, GetUser, GetLoginProfile, ListAccessKeys), their MFA
 * devices (ListVirtualMFADevices, ListMFADevices, GetAccountSummary), credential reports, and the
 * quarantine's reads and changes of its group and policy (packages/aws/src/quarantine.ts).
 *
 * GenerateCredentialReport starts a report when there is none younger than four hours (IAM's rule); it
 * is COMPLETE `reportReadyMs` after it started, and GetCredentialReport answers ReportInProgress until
 * then. The quarantine group (`quarantineGroupName`) and its policy (`<group>Policy`) exist where the
 * quarantine is deployed; who is in the group and who has the policy attached is kept per account.
 * The caller check and IAM's per-account rate are the composition's (`simulated-aws.ts`).
 */
export interface SimulatedIamOptions {
  /** How long a new credential report takes. */
  reportReadyMs: number;
  /** The quarantine group (and its policy, `<group>Policy`) where the quarantine is deployed. */
  quarantineGroupName: string;
  /** Accounts whose credential report was generated this long before the simulation started. */
  reportAgeMs?: (accountId: string) => number | null;
}

const IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/";
const FOUR_HOURS_MS = 4 * 3600_000;

export class SimulatedIam implements SimService {
  /** When each account's latest credential report was started (epoch ms). */
  private readonly reports = new Map<string, number>();
  /** The quarantine's state, per account: the group's members, and the users the policy is attached to. */
  private readonly groupMembers = new Map<string, Set<string>>();
  private readonly policyUsers = new Map<string, Set<string>>();

  constructor(
    private readonly accounts: SimAccounts,
    private readonly o: SimulatedIamOptions,
  ) {
    const start = Date.now();
    for (let i = 0; i < accounts.count; i++) {
      const id = accounts.accountId(i);
      const age = o.reportAgeMs?.(id);
      if (age !== null && age !== undefined) this.reports.set(id, start - age - o.reportReadyMs);
    }
  }

  /** Who is quarantined in an account now (the group's members and the policy's users), sorted. */
  quarantinedUsers(accountId: string): string[] {
    return [
      ...new Set([...(this.groupMembers.get(accountId) ?? []), ...(this.policyUsers.get(accountId) ?? [])]),
    ].sort();
  }

  /**
   * Every credential report generated so far becomes `ms` older, as if that much time had passed
   * (a day between two daily runs: IAM then generates a new report, older than four hours).
   */
  ageCredentialReports(ms: number): void {
    for (const [id, started] of this.reports) this.reports.set(id, started - ms);
  }

  serve(req: SimRequest): { op: string; answer: () => SimAnswer } {
    const { op, form } = queryForm(req);
    return {
      op,
      answer: () => {
        if (req.caller === null)
          throw new SimError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
        return queryAnswer(op, IAM_NS, this.answer(op, form, req.caller, req.now), req.requestId);
      },
    };
  }

  error(e: SimError, requestId: string): SimAnswer {
    return queryError(e, requestId);
  }

  private userArn(accountId: string, name: string): string {
    return `arn:aws:iam::${accountId}:user/${name}`;
  }

  private userXml(accountId: string, u: SimUser, i: number): string {
    const used = u.console ? `<PasswordLastUsed>${isoSeconds(CREATED + 86_400_000 * 30)}</PasswordLastUsed>` : "";
    return `<member><Path>/</Path><UserName>${u.name}</UserName><UserId>AIDA${accountId}${String(i).padStart(5, "0")}</UserId><Arn>${this.userArn(accountId, u.name)}</Arn><CreateDate>${isoSeconds(CREATED + i * 1000)}</CreateDate>${used}</member>`;
  }

  private page<T>(items: T[], form: URLSearchParams, defaultMax: number): { items: T[]; more: string } {
    const start = Number(form.get("Marker") ?? 0);
    const max = Number(form.get("MaxItems") ?? defaultMax);
    const slice = items.slice(start, start + max);
    const next = start + max;
    return {
      items: slice,
      more:
        next < items.length
          ? `<IsTruncated>true</IsTruncated><Marker>${next}</Marker>`
          : "<IsTruncated>false</IsTruncated>",
    };
  }

  private policyArn(accountId: string): string {
    return `arn:aws:iam::${accountId}:policy/${this.o.quarantineGroupName}Policy`;
  }

  private groupXml(accountId: string): string {
    const g = this.o.quarantineGroupName;
    return `<member><Path>/</Path><GroupName>${g}</GroupName><GroupId>AGPA${accountId}</GroupId><Arn>arn:aws:iam::${accountId}:group/${g}</Arn><CreateDate>${isoSeconds(CREATED)}</CreateDate></member>`;
  }

  /** The quarantine group, which exists where the quarantine is deployed (and no other group does). */
  private quarantineGroup(accountId: string, name: string | null): void {
    if (name !== this.o.quarantineGroupName || !this.accounts.quarantineDeployed(accountId))
      throw new SimError(404, "NoSuchEntity", `The group with name ${name} cannot be found.`);
  }

  private findUser(form: URLSearchParams, accountId: string): { user: SimUser; index: number } {
    const name = form.get("UserName") ?? "";
    const index = Number(/^user-(\d+)$/.exec(name)?.[1] ?? -1);
    if (index < 0 || index >= this.accounts.users(accountId).length)
      throw new SimError(404, "NoSuchEntity", `The user with name ${name} cannot be found.`);
    return { user: simUser(index), index };
  }

  private deviceSerial(accountId: string, u: SimUser): string {
    if (u.device === "virtual") return `arn:aws:iam::${accountId}:mfa/${u.name}`;
    if (u.device === "fido") return `arn:aws:iam::${accountId}:u2f/user/${u.name}/fido-${u.name}`;
    return `GAHT${accountId.slice(-8)}`;
  }

  private reportCsv(accountId: string, generatedAt: number): string {
    const header =
      "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    const created = isoSeconds(CREATED - 86_400_000).replace("Z", "+00:00");
    const rootMfa = this.accounts.rootHasMfa(accountId);
    const lines = [
      header,
      `<root_account>,arn:aws:iam::${accountId}:root,${created},not_supported,${isoSeconds(generatedAt - 86_400_000).replace("Z", "+00:00")},not_supported,not_supported,${rootMfa},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`,
    ];
    this.accounts.users(accountId).forEach((u, i) => {
      const c = isoSeconds(CREATED + i * 1000).replace("Z", "+00:00");
      const pw = u.console
        ? `true,${isoSeconds(CREATED + 86_400_000 * 30).replace("Z", "+00:00")},${c},N/A`
        : "false,N/A,N/A,N/A";
      const key = u.activeKeys > 0 ? `true,${c},N/A,N/A,N/A` : "false,N/A,N/A,N/A,N/A";
      lines.push(
        `${u.name},${this.userArn(accountId, u.name)},${c},${pw},${u.device !== null},${key},false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`,
      );
    });
    return `${lines.join("\n")}\n`;
  }

  private answer(op: string, form: URLSearchParams, accountId: string, now: number): string {
    const users = this.accounts.users(accountId);
    switch (op) {
      case "GenerateCredentialReport": {
        const started = this.reports.get(accountId);
        if (started === undefined || now - started > FOUR_HOURS_MS) {
          this.reports.set(accountId, now);
          return "<State>STARTED</State><Description>No report exists. Starting a new report generation task</Description>";
        }
        return now - started >= this.o.reportReadyMs ? "<State>COMPLETE</State>" : "<State>INPROGRESS</State>";
      }
      case "GetCredentialReport": {
        const started = this.reports.get(accountId);
        if (started === undefined) throw new SimError(410, "ReportNotPresent", "Credential report not present.");
        if (now - started < this.o.reportReadyMs) throw new SimError(404, "ReportInProgress", "Report is in progress.");
        const generated = started + this.o.reportReadyMs;
        const content = Buffer.from(this.reportCsv(accountId, generated)).toString("base64");
        return `<Content>${content}</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>${isoSeconds(generated)}</GeneratedTime>`;
      }
      case "ListUsers": {
        const p = this.page(
          users.map((u, i) => this.userXml(accountId, u, i)),
          form,
          100,
        );
        return `<Users>${p.items.join("")}</Users>${p.more}`;
      }
      case "ListVirtualMFADevices": {
        const devices: string[] = [];
        if (this.accounts.rootHasMfa(accountId))
          devices.push(
            `<member><SerialNumber>arn:aws:iam::${accountId}:mfa/root-account-mfa-device</SerialNumber><User><UserId>${accountId}</UserId><Arn>arn:aws:iam::${accountId}:root</Arn><CreateDate>${isoSeconds(CREATED - 86_400_000)}</CreateDate></User><EnableDate>${isoSeconds(CREATED)}</EnableDate></member>`,
          );
        users.forEach((u, i) => {
          if (u.device !== "virtual") return;
          devices.push(
            `<member><SerialNumber>${this.deviceSerial(accountId, u)}</SerialNumber><User><Path>/</Path><UserName>${u.name}</UserName><UserId>AIDA${accountId}${String(i).padStart(5, "0")}</UserId><Arn>${this.userArn(accountId, u.name)}</Arn><CreateDate>${isoSeconds(CREATED + i * 1000)}</CreateDate></User><EnableDate>${isoSeconds(CREATED + i * 1000 + 60_000)}</EnableDate></member>`,
          );
        });
        const p = this.page(devices, form, 100);
        return `<VirtualMFADevices>${p.items.join("")}</VirtualMFADevices>${p.more}`;
      }
      case "GetAccountSummary": {
        const entries: Record<string, number> = {
          Users: users.length,
          AccountMFAEnabled: this.accounts.rootHasMfa(accountId) ? 1 : 0,
          AccountAccessKeysPresent: 0,
          AccountSigningCertificatesPresent: 0,
          AccountPasswordPresent: 1,
          MFADevices: users.filter((u) => u.device).length,
          MFADevicesInUse: users.filter((u) => u.device).length,
        };
        return `<SummaryMap>${Object.entries(entries)
          .map(([k, v]) => `<entry><key>${k}</key><value>${v}</value></entry>`)
          .join("")}</SummaryMap>`;
      }
      case "ListMFADevices": {
        const { user, index } = this.findUser(form, accountId);
        const d = user.device
          ? `<member><UserName>${user.name}</UserName><SerialNumber>${this.deviceSerial(accountId, user)}</SerialNumber><EnableDate>${isoSeconds(CREATED + index * 1000 + 60_000)}</EnableDate></member>`
          : "";
        return `<MFADevices>${d}</MFADevices><IsTruncated>false</IsTruncated>`;
      }
      case "GetLoginProfile": {
        const { user, index } = this.findUser(form, accountId);
        if (!user.console)
          throw new SimError(404, "NoSuchEntity", `Login Profile for User ${user.name} cannot be found.`);
        return `<LoginProfile><UserName>${user.name}</UserName><CreateDate>${isoSeconds(CREATED + index * 1000)}</CreateDate><PasswordResetRequired>false</PasswordResetRequired></LoginProfile>`;
      }
      case "ListAccessKeys": {
        const { user, index } = this.findUser(form, accountId);
        const keys =
          user.activeKeys > 0
            ? `<member><UserName>${user.name}</UserName><AccessKeyId>AKIA${accountId}${String(index).padStart(4, "0")}</AccessKeyId><Status>Active</Status><CreateDate>${isoSeconds(CREATED + index * 1000)}</CreateDate></member>`
            : "";
        return `<AccessKeyMetadata>${keys}</AccessKeyMetadata><IsTruncated>false</IsTruncated>`;
      }
      // ---- the quarantine's (packages/aws/src/quarantine.ts: the enforcer role's reads and changes) ----
      case "GetUser": {
        const { user, index } = this.findUser(form, accountId);
        return `<User>${this.userXml(accountId, user, index).slice("<member>".length, -"</member>".length)}</User>`;
      }
      case "ListGroupsForUser": {
        const { user } = this.findUser(form, accountId);
        const groups = this.groupMembers.get(accountId)?.has(user.name) ? [this.groupXml(accountId)] : [];
        const p = this.page(groups, form, 100);
        return `<Groups>${p.items.join("")}</Groups>${p.more}`;
      }
      case "ListAttachedUserPolicies": {
        const { user } = this.findUser(form, accountId);
        const g = this.o.quarantineGroupName;
        const attached = this.policyUsers.get(accountId)?.has(user.name)
          ? [`<member><PolicyName>${g}Policy</PolicyName><PolicyArn>${this.policyArn(accountId)}</PolicyArn></member>`]
          : [];
        const p = this.page(attached, form, 100);
        return `<AttachedPolicies>${p.items.join("")}</AttachedPolicies>${p.more}`;
      }
      case "GetGroup": {
        this.quarantineGroup(accountId, form.get("GroupName"));
        const members = [...(this.groupMembers.get(accountId) ?? [])].sort().map((name) => {
          const i = Number(name.slice("user-".length));
          return this.userXml(accountId, simUser(i), i);
        });
        const p = this.page(members, form, 100);
        return `<Group>${this.groupXml(accountId).slice("<member>".length, -"</member>".length)}</Group><Users>${p.items.join("")}</Users>${p.more}`;
      }
      case "ListEntitiesForPolicy": {
        if (!this.accounts.quarantineDeployed(accountId) || form.get("PolicyArn") !== this.policyArn(accountId))
          throw new SimError(
            404,
            "NoSuchEntity",
            `Policy ${form.get("PolicyArn")} does not exist or is not attachable.`,
          );
        const users = [...(this.policyUsers.get(accountId) ?? [])]
          .sort()
          .map(
            (name) => `<member><UserName>${name}</UserName><UserId>AIDA${accountId}${name.slice(5)}</UserId></member>`,
          );
        const p = this.page(users, form, 100);
        return `<PolicyGroups></PolicyGroups><PolicyUsers>${p.items.join("")}</PolicyUsers><PolicyRoles></PolicyRoles>${p.more}`;
      }
      case "AddUserToGroup":
      case "RemoveUserFromGroup": {
        this.quarantineGroup(accountId, form.get("GroupName"));
        const { user } = this.findUser(form, accountId);
        const members = this.groupMembers.get(accountId) ?? new Set<string>();
        this.groupMembers.set(accountId, members);
        if (op === "AddUserToGroup") members.add(user.name);
        else if (!members.delete(user.name))
          throw new SimError(404, "NoSuchEntity", `User ${user.name} is not in group ${form.get("GroupName")}.`);
        return "";
      }
      case "AttachUserPolicy":
      case "DetachUserPolicy": {
        const { user } = this.findUser(form, accountId);
        if (!this.accounts.quarantineDeployed(accountId) || form.get("PolicyArn") !== this.policyArn(accountId))
          throw new SimError(
            404,
            "NoSuchEntity",
            `Policy ${form.get("PolicyArn")} does not exist or is not attachable.`,
          );
        const users = this.policyUsers.get(accountId) ?? new Set<string>();
        this.policyUsers.set(accountId, users);
        if (op === "AttachUserPolicy") users.add(user.name);
        else if (!users.delete(user.name))
          throw new SimError(
            404,
            "NoSuchEntity",
            `Policy ${form.get("PolicyArn")} is not attached to user ${user.name}.`,
          );
        return "";
      }
      case "ListOrganizationsFeatures":
        return `<OrganizationId>${ORG_ID}</OrganizationId><EnabledFeatures></EnabledFeatures>`;
      default:
        throw new SimError(400, "InvalidAction", `IAM ${op} is not simulated`);
    }
  }
}
