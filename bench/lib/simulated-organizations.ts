import { CREATED, ORG_ID, type SimAccounts } from "./sim-accounts";
import { type SimAnswer, SimError, type SimRequest, type SimService } from "./sim-wire";

/**
 * Organizations for the simulated AWS, over JSON 1.1 (`X-Amz-Target: AWSOrganizationsV20161128.<op>`):
 * the organization, its root, its OUs (`ous` leaves under `ouParents` OUs directly under the root; the
 * management account and every 50th account at the root), their accounts and children, parents, and
 * each account's `owner` tag (`team-<index mod 97>@example.com`). Pages of at most 20. Only the
 * management account may call it (a delegated administrator reaches it through the management
 * account's role); its request rate is the composition's to enforce (one bucket for the organization).
 */
export interface SimulatedOrganizationsOptions {
  /** Leaf OUs the accounts are spread over. */
  ous: number;
  /** OUs directly under the root, the leaves' parents. */
  ouParents: number;
}

const JSON_11 = "application/x-amz-json-1.1";

export class SimulatedOrganizations implements SimService {
  /** Organizations' throttling message (400 `TooManyRequestsException`). */
  static readonly TOO_MANY_REQUESTS =
    "You have sent too many requests in too short a period of time. The quota helps protect against denial-of-service attacks. Try again later.";
  readonly rootId = "r-sim0";

  constructor(
    private readonly accounts: SimAccounts,
    private readonly o: SimulatedOrganizationsOptions,
  ) {}

  /** The OU ids from the root down to an account's parent (AccountTarget.ouIds), as Discover lists them. */
  ouPath(accountId: string): string[] {
    const leaf = this.leafOf(this.accounts.accountIndex(accountId));
    if (leaf === null) return [this.rootId];
    return [this.rootId, this.ouId(Number(leaf.slice(-8)) % this.o.ouParents), leaf];
  }

  /** The id of the `n`-th OU directly under the root (0-based; there are `ouParents`). */
  parentOuId(n: number): string {
    return this.ouId(n);
  }

  serve(req: SimRequest): { op: string; answer: () => SimAnswer } {
    const op = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    return {
      op,
      answer: () => {
        if (req.caller !== this.accounts.managementAccountId)
          throw new SimError(400, "AccessDeniedException", "You don't have permissions to access this resource.");
        const input = JSON.parse(req.body.toString("utf8") || "{}") as Record<string, unknown>;
        return { status: 200, headers: { "content-type": JSON_11 }, body: JSON.stringify(this.answer(op, input)) };
      },
    };
  }

  error(e: SimError): SimAnswer {
    return {
      status: e.status,
      headers: { "content-type": JSON_11 },
      body: JSON.stringify({ __type: e.code, Message: e.message }),
    };
  }

  private ouId(n: number): string {
    return `ou-sim0-${String(n).padStart(8, "0")}`;
  }

  /** OU `n` (0-based) of the leaves: under parent `n % ouParents`. Parents are OUs directly under the root. */
  private leafOf(accountIndex: number): string | null {
    // The management account and every 50th account sit at the root.
    if (accountIndex % 50 === 0) return null;
    return this.ouId(this.o.ouParents + (accountIndex % this.o.ous));
  }

  private accountJson(i: number): Record<string, unknown> {
    const id = this.accounts.accountId(i);
    return {
      Id: id,
      Arn: `arn:aws:organizations::${this.accounts.managementAccountId}:account/${ORG_ID}/${id}`,
      Email: `aws+${id}@example.com`,
      Name: i === 0 ? "management" : `account-${String(i).padStart(5, "0")}`,
      Status: "ACTIVE",
      State: "ACTIVE",
      JoinedMethod: i === 0 ? "INVITED" : "CREATED",
      JoinedTimestamp: CREATED / 1000,
    };
  }

  private page<T>(items: T[], input: Record<string, unknown>, max: number): { items: T[]; NextToken?: string } {
    const start = Number(input.NextToken ?? 0);
    const n = Math.min(max, Number(input.MaxResults ?? max));
    const next = start + n;
    return { items: items.slice(start, next), ...(next < items.length ? { NextToken: String(next) } : {}) };
  }

  private childrenOf(parentId: string): { ous: string[]; accounts: number[] } {
    const ous: string[] = [];
    const accounts: number[] = [];
    if (parentId === this.rootId) for (let p = 0; p < this.o.ouParents; p++) ous.push(this.ouId(p));
    else {
      const n = Number(parentId.slice(-8));
      if (n < this.o.ouParents)
        for (let l = 0; l < this.o.ous; l++) if (l % this.o.ouParents === n) ous.push(this.ouId(this.o.ouParents + l));
    }
    for (let i = 0; i < this.accounts.count; i++) if ((this.leafOf(i) ?? this.rootId) === parentId) accounts.push(i);
    return { ous, accounts };
  }

  private answer(op: string, input: Record<string, unknown>): Record<string, unknown> {
    const mgmt = this.accounts.managementAccountId;
    switch (op) {
      case "DescribeOrganization":
        return {
          Organization: {
            Id: ORG_ID,
            Arn: `arn:aws:organizations::${mgmt}:organization/${ORG_ID}`,
            FeatureSet: "ALL",
            MasterAccountArn: `arn:aws:organizations::${mgmt}:account/${ORG_ID}/${mgmt}`,
            MasterAccountId: mgmt,
            MasterAccountEmail: `aws+${mgmt}@example.com`,
          },
        };
      case "ListRoots":
        return {
          Roots: [
            { Id: this.rootId, Arn: `arn:aws:organizations::${mgmt}:root/${ORG_ID}/${this.rootId}`, Name: "Root" },
          ],
        };
      case "ListOrganizationalUnitsForParent": {
        const p = this.page(this.childrenOf(String(input.ParentId)).ous, input, 20);
        return {
          OrganizationalUnits: p.items.map((id) => ({
            Id: id,
            Arn: `arn:aws:organizations::${mgmt}:ou/${ORG_ID}/${id}`,
            Name: `OU ${id.slice(-4)}`,
          })),
          ...(p.NextToken ? { NextToken: p.NextToken } : {}),
        };
      }
      case "ListChildren": {
        const c = this.childrenOf(String(input.ParentId));
        const p =
          input.ChildType === "ACCOUNT"
            ? this.page(
                c.accounts.map((i) => ({ Id: this.accounts.accountId(i), Type: "ACCOUNT" })),
                input,
                20,
              )
            : this.page(
                c.ous.map((id) => ({ Id: id, Type: "ORGANIZATIONAL_UNIT" })),
                input,
                20,
              );
        return { Children: p.items, ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      }
      case "ListAccountsForParent": {
        const c = this.childrenOf(String(input.ParentId));
        const p = this.page(
          c.accounts.map((i) => this.accountJson(i)),
          input,
          20,
        );
        return { Accounts: p.items, ...(p.NextToken ? { NextToken: p.NextToken } : {}) };
      }
      case "ListAccounts": {
        const start = Number(input.NextToken ?? 0);
        const n = Math.min(20, Number(input.MaxResults ?? 20));
        const items: Record<string, unknown>[] = [];
        for (let i = start; i < Math.min(this.accounts.count, start + n); i++) items.push(this.accountJson(i));
        return { Accounts: items, ...(start + n < this.accounts.count ? { NextToken: String(start + n) } : {}) };
      }
      case "ListParents": {
        const i = this.accounts.accountIndex(String(input.ChildId));
        if (i < 0) throw new SimError(400, "ChildNotFoundException", "child not found");
        const leaf = this.leafOf(i);
        return { Parents: [{ Id: leaf ?? this.rootId, Type: leaf ? "ORGANIZATIONAL_UNIT" : "ROOT" }] };
      }
      case "ListTagsForResource": {
        const i = this.accounts.accountIndex(String(input.ResourceId));
        if (i < 0) throw new SimError(400, "TargetNotFoundException", "target not found");
        return { Tags: [{ Key: "owner", Value: `team-${i % 97}@example.com` }] };
      }
      default:
        throw new SimError(400, "InvalidAction", `Organizations ${op} is not simulated`);
    }
  }
}
