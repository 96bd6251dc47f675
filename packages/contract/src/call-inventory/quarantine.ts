// The quarantine (made only with `quarantine: true`): Enforce and its sweep, the member accounts'
// forwarding of IAM's events to the central bus, and the central rule that invokes Enforce.
import { QUARANTINE_IAM_EVENTS } from "@orgmfa/core";
import type { InventoryBuilder, S3Op } from "./builder";
import { type CallPrincipal, central, F, service } from "./types";

// ── Enforce (apps/functions/src/enforce.ts), with the quarantine ─────────────────────────────────────
export function enforceCalls(b: InventoryBuilder) {
  const { d, p, S, scanner, run, cfg, accounts, add, s3, publishToTopic, assume } = b;
  const q = d.quarantine;
  if (!q) return;
  const e = (op: S3Op, k: string, what: string, source: string, code: string) =>
    s3("enforce", op, k, what, source, code, true);
  e("get", cfg, "Enforce reads the deployed scan configuration", F.enforce, "store.scanConfig(s.CONFIG_KEY)");
  e(
    "list",
    d.keys.accountOus(d.prefix),
    "Enforce finds the accounts' OU ids by listing",
    F.enforce,
    "store.find<Record<string, string[]>>(accountOusKey",
  );
  e(
    "get",
    d.keys.accountOus(d.prefix),
    "Enforce reads the accounts' OU ids",
    F.enforce,
    "store.find<Record<string, string[]>>(accountOusKey",
  );
  e(
    "put",
    d.keys.quarantineRecord(d.prefix, S.at, d.memberAccountIds[0] ?? scanner, S.userName),
    "Enforce records a change an IAM event led to",
    F.enforce,
    "quarantineRecordKey(s.REPORT_PREFIX",
  );
  e("get", run.context, "The sweep reads the run context", F.enforce, "store.get<RunContext>(ref.contextKey)");
  e("get", run.ledger, "The sweep reads the ledger", F.enforce, "store.get<AccountTarget[]>(keys.ledger)");
  e(
    "get",
    run.consoleWithoutMfa,
    "The sweep reads the console users without MFA",
    F.enforce,
    "store.get<WithoutMfa>(keys.consoleWithoutMfa)",
  );
  e("put", run.quarantine, "The sweep writes its record", F.enforce, "store.put(keys.quarantine");
  publishToTopic("enforce", "Enforce announces a change", F.enforce, "Subject: snsSubject(`orgmfa quarantine:", true);
  publishToTopic("enforce", "The sweep announces its changes", F.enforce, "Subject: announcement.subject", true);
  for (const account of accounts) {
    assume(
      central("enforce"),
      account,
      q.memberEnforcerRoleName,
      "Enforce assumes each account's enforcer role",
      F.pool,
      "new AssumeRoleCommand",
      true,
    );
    const enforcer: CallPrincipal = { kind: "member-role", role: "enforcer", account };
    const user = `arn:${p}:iam::${account}:user/${S.userName}`;
    const group = `arn:${p}:iam::${account}:group/${q.quarantineGroupName}`;
    const policy = `arn:${p}:iam::${account}:policy/${q.quarantineGroupName}Policy`;
    const iam = (action: string, resource: string, code: string, context?: Record<string, string>) =>
      add({
        principal: enforcer,
        action,
        resource,
        resourceAccount: account,
        ...(context ? { context } : {}),
        what: "Enforce reads and reconciles a user's quarantine",
        source: F.quarantine,
        code,
        quarantine: true,
      });
    iam("iam:GetUser", user, "new GetUserCommand");
    iam("iam:GetLoginProfile", user, "new GetLoginProfileCommand");
    iam("iam:ListMFADevices", user, "new ListMFADevicesCommand");
    iam("iam:ListGroupsForUser", user, "paginateListGroupsForUser(");
    iam("iam:ListAttachedUserPolicies", user, "paginateListAttachedUserPolicies(");
    iam("iam:GetGroup", group, "paginateGetGroup(");
    iam("iam:ListEntitiesForPolicy", policy, "paginateListEntitiesForPolicy(");
    iam("iam:AddUserToGroup", group, "new AddUserToGroupCommand");
    iam("iam:RemoveUserFromGroup", group, "new RemoveUserFromGroupCommand");
    iam("iam:AttachUserPolicy", user, "new AttachUserPolicyCommand", { "iam:PolicyARN": policy });
    iam("iam:DetachUserPolicy", user, "new DetachUserPolicyCommand", { "iam:PolicyARN": policy });
  }
}

// ── The forwarding of IAM's events to the central bus, and the central rule that invokes Enforce ─────
export function forwardingCalls(b: InventoryBuilder) {
  const { d, scanner, add, kmsVia, key, serviceAssumes } = b;
  const q = d.quarantine;
  if (!q) return;
  // The member accounts forward IAM's CloudTrail events (us-east-1) to the central bus.
  for (const [account, fwd] of Object.entries(q.forwarding)) {
    const source = { "aws:SourceAccount": account, "aws:SourceArn": fwd.ruleArn };
    const forwarder: CallPrincipal = { kind: "member-role", role: "forwarder", account };
    serviceAssumes("events.amazonaws.com", forwarder, "EventBridge assumes the forwarding role", source, true);
    add({
      principal: forwarder,
      action: "events:PutEvents",
      resource: q.eventBusArn,
      resourceAccount: scanner,
      context: { "events:source": ["aws.iam"], "events:detail-type": ["AWS API Call via CloudTrail"] },
      what: `the forwarding rule puts an IAM event (${QUARANTINE_IAM_EVENTS[0]}, …) on the central bus`,
      source: F.member,
      code: "RoleArn: !GetAtt ForwardIamEventsRole.Arn",
      quarantine: true,
    });
    add({
      principal: service("events.amazonaws.com"),
      action: "sqs:SendMessage",
      resource: fwd.dlqArn,
      resourceAccount: account,
      context: source,
      what: "EventBridge keeps an event the central bus did not take in the forwarding rule's dead-letter queue (SSE-SQS)",
      source: F.member,
      code: "Arn: !GetAtt ForwardIamEventsDeadLetters.Arn",
      quarantine: true,
    });
    // The daily sweep counts what the account could not forward, through its enforcer role (made by
    // the primary region's instance; the queue is the us-east-1 instance's).
    add({
      principal: { kind: "member-role", role: "enforcer", account },
      action: "sqs:GetQueueAttributes",
      resource: fwd.dlqArn,
      resourceAccount: account,
      what: "the sweep counts the IAM events the account could not forward (its forwarding dead-letter queue)",
      source: F.forwarding,
      code: "new GetQueueAttributesCommand",
      quarantine: true,
    });
  }
  // The central rule invokes Enforce, and keeps what it could not deliver in the encrypted queue.
  const rule = { "aws:SourceAccount": scanner, "aws:SourceArn": q.enforceRuleArn };
  if (d.functions.enforce)
    add({
      principal: service("events.amazonaws.com"),
      action: "lambda:InvokeFunction",
      resource: d.functions.enforce.arn,
      resourceAccount: scanner,
      context: rule,
      what: "the IAM-event rule invokes Enforce",
      source: F.quarantineEvents,
      code: "new eventsTargets.LambdaFunction(props.enforce",
      quarantine: true,
    });
  add({
    principal: service("events.amazonaws.com"),
    action: "sqs:SendMessage",
    resource: q.enforceDlqArn,
    resourceAccount: scanner,
    context: rule,
    what: "EventBridge keeps an IAM event Enforce did not take in its dead-letter queue",
    source: F.quarantineEvents,
    code: "deadLetterQueue: undelivered",
    quarantine: true,
  });
  const sqsKms = { ...kmsVia("sqs", { "kms:EncryptionContext:aws:sqs:arn": q.enforceDlqArn }), ...rule };
  for (const action of ["kms:GenerateDataKey", "kms:Decrypt"] as const)
    key(
      service("events.amazonaws.com"),
      action,
      sqsKms,
      "EventBridge encrypts the dead letter (SSE-KMS queue)",
      F.quarantineEvents,
      true,
    );
}
