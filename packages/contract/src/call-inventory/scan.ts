// The scan's phases: Discover, Owners (as Discover's role), ScanBatch and Publish.
import { HISTORY_TABLES, REPORT_FILE_NAMES } from "@orgmfa/render";
import { historyKey, latestKeyPrefix, scanKeyPrefix } from "../layout";
import type { InventoryBuilder } from "./builder";
import { type CallPrincipal, central, F } from "./types";

/** Organizations, through the management account's audit role (Discover's role assumes it). */
function organizations(b: InventoryBuilder) {
  const { d, p, add, assume } = b;
  const orgRole = (what: string, code: string, source: string = F.pool) =>
    assume(central("discover"), d.managementAccountId, d.auditRoleName, what, source, code);
  const mgmtAudit: CallPrincipal = { kind: "member-role", role: "audit", account: d.managementAccountId };
  const orgArn = (rest: string) => `arn:${p}:organizations::${d.managementAccountId}:${rest}`;
  const orgCall = (action: string, resource: string, what: string, code: string, source: string = F.discovery) =>
    add({ principal: mgmtAudit, action, resource, resourceAccount: d.managementAccountId, what, source, code });
  return { orgRole, orgArn, orgCall };
}

// ── Discover (apps/functions/src/discover.ts) ────────────────────────────────────────────────────────
export function discoverCalls(b: InventoryBuilder) {
  const { d, S, run, cfg, s3 } = b;
  const { orgRole, orgArn, orgCall } = organizations(b);
  const latestReport = `${latestKeyPrefix(d.prefix)}report.json`;
  s3(
    "discover",
    "get",
    cfg,
    "Discover reads the deployed scan configuration",
    F.runState,
    "async scanConfig(key: string)",
  );
  s3(
    "discover",
    "list",
    latestReport,
    "Discover finds the previous report by listing",
    F.discover,
    "objects.snapshot(",
  );
  s3(
    "discover",
    "get",
    latestReport,
    "Discover copies the previous report (CopyObject reads it)",
    F.runState,
    "new CopyObjectCommand",
  );
  s3(
    "discover",
    "put",
    run.previous,
    "Discover copies the previous report into the run",
    F.discover,
    "runKeys(s.REPORT_PREFIX, scanId).previous",
  );
  s3("discover", "put", run.context, "Discover writes the run context", F.discoverPhase, 'state.put("context", run)');
  s3("discover", "put", run.ledger, "Discover writes the ledger", F.discoverPhase, 'state.put("ledger",');
  s3(
    "discover",
    "put",
    d.keys.accountOus(d.prefix),
    "Discover writes the accounts' OU ids",
    F.discoverPhase,
    '"accountOus",',
  );
  s3(
    "discover",
    "put",
    run.targets,
    "Discover writes the Map's targets",
    F.discoverPhase,
    'state.put("targets", inScope)',
  );
  s3(
    "discover",
    "list",
    d.keys.pace(d.prefix),
    "Discover finds the last run's pace by listing",
    F.discover,
    'states.kept.find("pace")',
  );
  s3(
    "discover",
    "get",
    d.keys.pace(d.prefix),
    "Discover reads the last run's pace",
    F.discover,
    'states.kept.find("pace")',
  );
  orgRole(
    "Discover assumes the management account's audit role for Organizations",
    "this.assume(this.options.orgRoleArn)",
  );
  const rootArn = orgArn(`root/${d.organizationId}/${S.rootId}`);
  const ouArn = orgArn(`ou/${d.organizationId}/${S.ouId}`);
  orgCall(
    "organizations:DescribeOrganization",
    "*",
    "Discover reads the organization",
    "new DescribeOrganizationCommand",
  );
  orgCall("organizations:ListRoots", "*", "Discover lists the roots", "paginateListRoots(");
  for (const parent of [rootArn, ouArn]) {
    orgCall(
      "organizations:ListAccountsForParent",
      parent,
      "Discover lists each parent's accounts",
      "paginateListAccountsForParent(",
    );
    orgCall(
      "organizations:ListOrganizationalUnitsForParent",
      parent,
      "Discover walks the OUs",
      "paginateListOrganizationalUnitsForParent(",
    );
  }
  orgCall(
    "iam:ListOrganizationsFeatures",
    "*",
    "Discover reads centralized root access",
    "new ListOrganizationsFeaturesCommand",
  );
}

// ── Owners (apps/functions/src/owners.ts), as Discover's role ────────────────────────────────────────
export function ownersCalls(b: InventoryBuilder) {
  const { d, run, accounts, s3 } = b;
  const { orgRole, orgArn, orgCall } = organizations(b);
  s3("discover", "get", run.targets, "Owners reads the run's targets", F.ownersPhase, 'o.state.get("targets")');
  s3(
    "discover",
    "list",
    d.keys.ownerTagCache(d.prefix),
    "Owners finds the owner-tag cache by listing",
    F.ownersPhase,
    'o.states.kept.find("ownerTags")',
  );
  s3(
    "discover",
    "get",
    d.keys.ownerTagCache(d.prefix),
    "Owners reads the owner-tag cache",
    F.ownersPhase,
    'o.states.kept.find("ownerTags")',
  );
  s3("discover", "put", run.owners, "Owners writes the run's owners", F.ownersPhase, 'o.state.put("owners",');
  s3(
    "discover",
    "put",
    d.keys.ownerTagCache(d.prefix),
    "Owners rewrites the owner-tag cache",
    F.ownersPhase,
    'o.states.kept.put("ownerTags", tags.cache)',
  );
  orgRole(
    "Owners assumes the management account's audit role for Organizations",
    "this.assume(this.options.orgRoleArn)",
  );
  for (const account of accounts)
    orgCall(
      "organizations:ListTagsForResource",
      orgArn(`account/${d.organizationId}/${account}`),
      "Owners reads each account's owner tag",
      "new ListTagsForResourceCommand",
      F.ownersAws,
    );
}

// ── ScanBatch (apps/functions/src/scan-batch.ts) ─────────────────────────────────────────────────────
export function scanBatchCalls(b: InventoryBuilder) {
  const { d, p, S, scanner, run, accounts, add, s3, assume } = b;
  s3("scanBatch", "get", run.context, "ScanBatch reads the run context", F.scanBatch, 'state.get("context")');
  for (const account of accounts) {
    s3(
      "scanBatch",
      "put",
      run.result(account),
      "ScanBatch writes each account's result",
      F.scanPhase,
      "o.state.putResult(result)",
    );
    assume(
      central("scanBatch"),
      account,
      d.auditRoleName,
      "ScanBatch assumes each account's audit role",
      F.pool,
      "new AssumeRoleCommand",
    );
    const audit: CallPrincipal = { kind: "member-role", role: "audit", account };
    const iam = (action: string, resource: string, code: string, source: string = F.collector) =>
      add({
        principal: audit,
        action,
        resource,
        resourceAccount: account,
        what: "ScanBatch reads the account's IAM facts",
        source,
        code,
      });
    iam("iam:GenerateCredentialReport", "*", "new GenerateCredentialReportCommand");
    iam("iam:GetCredentialReport", "*", "new GetCredentialReportCommand");
    iam("iam:GetAccountSummary", "*", "new GetAccountSummaryCommand");
    iam("iam:ListUsers", "*", "paginateListUsers(");
    iam("iam:ListVirtualMFADevices", "*", "paginateListVirtualMFADevices(", F.devices);
    const user = `arn:${p}:iam::${account}:user/${S.userName}`;
    iam("iam:ListMFADevices", user, "paginateListMFADevices(", F.devices);
    // A FIDO device's certifications (complete device lists only).
    iam("iam:GetMFADevice", user, "new GetMFADeviceCommand", F.devices);
    iam("iam:GetLoginProfile", user, "new GetLoginProfileCommand");
    iam("iam:ListAccessKeys", user, "paginateListAccessKeys(");
    if (d.rootAudit && account !== d.managementAccountId) {
      // Root sessions (scan configuration assumeRoot): ScanBatch opens them as the management account's
      // audit role (EnableRootAudit), which it assumes; the session's own IAM reads are governed by
      // AWS's task policy IAMAuditRootUserCredentials, not by a policy of this deployment.
      assume(
        central("scanBatch"),
        d.managementAccountId,
        d.auditRoleName,
        "ScanBatch assumes the management account's audit role to open root sessions",
        F.pool,
        "this.assume(this.options.orgRoleArn)",
      );
      add({
        principal: { kind: "member-role", role: "audit", account: d.managementAccountId },
        action: "sts:AssumeRoot",
        resource: `arn:${p}:iam::${account}:root`,
        resourceAccount: d.managementAccountId,
        context: { "sts:TaskPolicyArn": `arn:${p}:iam::aws:policy/root-task/IAMAuditRootUserCredentials` },
        what: "ScanBatch opens a read-only root session into the member account",
        source: F.pool,
        code: "new AssumeRootCommand",
        rootAudit: true,
      });
    }
    if (account !== scanner) {
      // Each account's own findings, delivered by the ScanBatch that scanned it, through its audit role.
      const hub = (action: string, resource: string, code: string) =>
        add({
          principal: audit,
          action,
          resource,
          resourceAccount: account,
          what: "ScanBatch delivers the account's findings to its Security Hub",
          source: F.hub,
          code,
        });
      hub(
        "securityhub:BatchImportFindings",
        `arn:${p}:securityhub:${d.region}:${account}:product/${account}/default`,
        "new BatchImportFindingsCommand",
      );
      hub("securityhub:GetFindings", `arn:${p}:securityhub:${d.region}:${account}:hub/default`, "paginateGetFindings(");
    }
  }
}

// ── Publish (apps/functions/src/publish.ts) ──────────────────────────────────────────────────────────
export function publishCalls(b: InventoryBuilder) {
  const { d, p, S, scanner, run, add, s3, publishToTopic } = b;
  s3("publish", "get", run.context, "Publish reads the run context", F.publish, 'state.get("context")');
  s3("publish", "get", run.ledger, "Publish reads the ledger", F.aggregatePhase, 'o.state.get("ledger")');
  s3(
    "publish",
    "list",
    run.results,
    "Publish finds the accounts' results by listing",
    F.aggregatePhase,
    "o.state.results(inScope",
  );
  s3(
    "publish",
    "get",
    run.result(d.memberAccountIds[0] ?? scanner),
    "Publish reads each account's result",
    F.runState,
    "this.get<AccountResult>(key)",
  );
  s3(
    "publish",
    "get",
    run.previous,
    "Publish reads the previous report's copy",
    F.publish,
    "loadPreviousAt(pool.s3(), event.bucket, run.previousKey)",
  );
  s3(
    "publish",
    "list",
    run.owners,
    "Publish finds the run's owners by listing",
    F.aggregatePhase,
    'o.state.find("owners")',
  );
  s3("publish", "get", run.owners, "Publish reads the run's owners", F.aggregatePhase, 'o.state.find("owners")');
  s3(
    "publish",
    "put",
    run.consoleWithoutMfa,
    "Publish writes who has a console password and no MFA",
    F.aggregatePhase,
    'o.state.put("withoutMfa"',
  );
  const scanPrefix = scanKeyPrefix(d.prefix, { scanId: S.scanId, startedAt: S.startedAt });
  for (const name of [...REPORT_FILE_NAMES, "manifest.json"]) {
    s3(
      "publish",
      "multipart-put",
      `${scanPrefix}${name}`,
      `Publish stores the scan's ${name}`,
      F.s3Store,
      "await uploadObject(s3, {",
    );
    s3(
      "publish",
      "get",
      `${scanPrefix}${name}`,
      `Publish copies ${name} to latest/ (CopyObject reads it)`,
      F.s3Store,
      "new CopyObjectCommand",
    );
    s3(
      "publish",
      "put",
      `${latestKeyPrefix(d.prefix)}${name}`,
      `Publish copies ${name} to latest/`,
      F.s3Store,
      "new CopyObjectCommand",
    );
  }
  // The history (docs/history.md): one gzip JSON Lines file per table, streamed (multipart above 8 MB).
  for (const table of HISTORY_TABLES)
    s3(
      "publish",
      "multipart-put",
      historyKey(d.prefix, table, { scanId: S.scanId, startedAt: S.startedAt }),
      `Publish writes the scan's ${table} history`,
      "packages/aws/src/publish.ts",
      "const key = historyKey(target.prefix, table, report);",
    );
  s3(
    "publish",
    "put",
    d.keys.pace(d.prefix),
    "Publish writes the run's pace",
    F.publish,
    'states.kept.put("pace", pace)',
  );
  for (const [action, resource, code] of [
    [
      "securityhub:BatchImportFindings",
      `arn:${p}:securityhub:${d.region}:${scanner}:product/${scanner}/default`,
      "new BatchImportFindingsCommand",
    ],
    ["securityhub:GetFindings", `arn:${p}:securityhub:${d.region}:${scanner}:hub/default`, "paginateGetFindings("],
  ] as const)
    add({
      principal: central("publish"),
      action,
      resource,
      resourceAccount: scanner,
      what: "Publish syncs the scanning account's own Security Hub",
      source: F.hub,
      code,
    });
  publishToTopic(
    "publish",
    "Publish sends the digest",
    F.sns,
    "new PublishCommand({ TopicArn: topicArn, Subject: digest.subject",
  );
}
