import type { SimAccounts } from "./sim-accounts";
import {
  esc,
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
 * STS for the simulated AWS, over the query protocol: GetCallerIdentity, and AssumeRole of the
 * audit role in every account and of the member enforcer role where the quarantine is deployed —
 * neither where the organization's shape denies the account's roles (AccessDenied, as a missing role
 * or an SCP answers). The credentials it hands out carry the account in their key (`ASIA<account>…`),
 * which is how the composition knows whom a later request acts as.
 */
export interface SimulatedStsOptions {
  /** The role the scanner may assume in every account. */
  auditRoleName: string;
  /** The member enforcer role (the quarantine's). */
  enforcerRoleName: string;
  /** Called when a role is assumed in an account (the composition times each account from it). */
  onAssumed?: (accountId: string, now: number) => void;
}

const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";

export class SimulatedSts implements SimService {
  private keySerial = 0;

  constructor(
    private readonly accounts: SimAccounts,
    private readonly o: SimulatedStsOptions,
  ) {}

  serve(req: SimRequest): { op: string; answer: () => SimAnswer } {
    const { op, form } = queryForm(req);
    return { op, answer: () => queryAnswer(op, STS_NS, this.answer(op, form, req.caller, req.now), req.requestId) };
  }

  error(e: SimError, requestId: string): SimAnswer {
    return queryError(e, requestId);
  }

  private answer(op: string, form: URLSearchParams, caller: string | null, now: number): string {
    if (op === "GetCallerIdentity") {
      if (!caller)
        throw new SimError(403, "InvalidClientTokenId", "The security token included in the request is invalid.");
      return `<Arn>arn:aws:iam::${caller}:user/scanner</Arn><UserId>AIDASIMULATED</UserId><Account>${caller}</Account>`;
    }
    if (op === "AssumeRole") {
      const roleArn = form.get("RoleArn") ?? "";
      const m = /^arn:aws:iam::(\d{12}):role\/(.+)$/.exec(roleArn);
      const target = m?.[1] ?? "";
      const role = m?.[2];
      const exists =
        !!m &&
        this.accounts.accountIndex(target) >= 0 &&
        this.accounts.failure(target) !== "assume-role-denied" &&
        (role === this.o.auditRoleName ||
          (role === this.o.enforcerRoleName && this.accounts.quarantineDeployed(target)));
      if (!exists) throw new SimError(403, "AccessDenied", `not authorized to perform sts:AssumeRole on ${roleArn}`);
      this.o.onAssumed?.(target, now);
      const key = `ASIA${target}${String(++this.keySerial % 10_000).padStart(4, "0")}`;
      const session = form.get("RoleSessionName") ?? "session";
      return `<Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>simulated-secret</SecretAccessKey><SessionToken>simulated-token</SessionToken><Expiration>${isoSeconds(now + 3600_000)}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROASIMULATED:${esc(session)}</AssumedRoleId><Arn>arn:aws:sts::${target}:assumed-role/${esc(role ?? "")}/${esc(session)}</Arn></AssumedRoleUser>`;
    }
    throw new SimError(400, "InvalidAction", `STS ${op} is not simulated`);
  }
}
