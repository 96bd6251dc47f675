import { scanConfigKey } from "../policies";
import {
  type CallPrincipal,
  type CentralRoleId,
  central,
  type DeploymentFacts,
  F,
  INVENTORY_SAMPLES,
  type InventoryCall,
  ROLE_SOURCE,
  service,
} from "./types";

/** An S3 call on the report bucket: read, write (one request or multipart), or list. */
export type S3Op = "get" | "put" | "multipart-put" | "list";

/** What the inventory's sections share: the calls made so far, and the helpers that add one call or a few. */
export type InventoryBuilder = ReturnType<typeof inventoryBuilder>;

/**
 * The builder of the calls of the deployment `d`: the facts every section uses (the partition, the
 * scanning account, the bucket, the run's keys, the sample values) and the helpers that add calls, each
 * with the KMS calls the service makes for it.
 */
export function inventoryBuilder(d: DeploymentFacts) {
  const calls: InventoryCall[] = [];
  const p = d.partition;
  const S = INVENTORY_SAMPLES;
  const scanner = d.scannerAccountId;
  const bucket = d.bucketArn;
  const object = (key: string) => `${bucket}/${key}`;
  const run = d.keys.run(d.prefix, S.scanId);
  const add = (c: InventoryCall) => calls.push(c);

  // ── The report key, as S3, SNS and SQS use it for their callers ──────────────────────────────────
  const kmsVia = (svc: "s3" | "sns" | "sqs", context: Record<string, string>) => ({
    "kms:ViaService": `${svc}.${d.region}.amazonaws.com`,
    "kms:CallerAccount": scanner,
    ...context,
  });
  // The bucket has S3 Bucket Keys on: S3 asks KMS with the bucket's ARN as the encryption context.
  const s3Kms = kmsVia("s3", { "kms:EncryptionContext:aws:s3:arn": bucket });
  const key = (
    principal: CallPrincipal,
    action: "kms:GenerateDataKey" | "kms:Decrypt" | "kms:Encrypt",
    context: Record<string, string>,
    what: string,
    source: string,
    quarantine?: boolean,
  ) =>
    add({
      principal,
      action,
      resource: d.keyArn,
      resourceAccount: scanner,
      context,
      what,
      source,
      ...(quarantine ? { quarantine } : {}),
    });

  /** One S3 call on the report bucket and the KMS calls S3 makes for it (SSE-KMS). */
  const s3 = (
    role: CentralRoleId,
    op: S3Op,
    k: string,
    what: string,
    source: string,
    code?: string,
    quarantine?: boolean,
  ) => {
    const who = central(role);
    const q = quarantine ? { quarantine } : {};
    const c = code ? { code } : {};
    if (op === "list") {
      add({
        principal: who,
        action: "s3:ListBucket",
        resource: bucket,
        resourceAccount: scanner,
        context: { "s3:prefix": k },
        what,
        source,
        ...c,
        ...q,
      });
      return;
    }
    if (op === "get") {
      add({
        principal: who,
        action: "s3:GetObject",
        resource: object(k),
        resourceAccount: scanner,
        what,
        source,
        ...c,
        ...q,
      });
      key(who, "kms:Decrypt", s3Kms, `${what} (SSE-KMS)`, source, quarantine);
      return;
    }
    add({
      principal: who,
      action: "s3:PutObject",
      resource: object(k),
      resourceAccount: scanner,
      what,
      source,
      ...c,
      ...q,
    });
    key(who, "kms:GenerateDataKey", s3Kms, `${what} (SSE-KMS)`, source, quarantine);
    if (op === "multipart-put") {
      // A multipart upload (lib-storage's Upload above one part) decrypts the data key for each part,
      // and an upload that fails is aborted.
      key(who, "kms:Decrypt", s3Kms, `${what} (SSE-KMS, multipart)`, source, quarantine);
      add({
        principal: who,
        action: "s3:AbortMultipartUpload",
        resource: object(k),
        resourceAccount: scanner,
        what: `${what} (a failed multipart upload aborted)`,
        source: F.s3Store,
        code: "leavePartsOnError: false",
        ...q,
      });
    }
  };

  /** A role's SNS publish to the encrypted digest topic, and the KMS calls SNS makes for it. */
  const publishToTopic = (role: CentralRoleId, what: string, source: string, code: string, quarantine?: boolean) => {
    const q = quarantine ? { quarantine } : {};
    add({
      principal: central(role),
      action: "sns:Publish",
      resource: d.topicArn,
      resourceAccount: scanner,
      what,
      source,
      code,
      ...q,
    });
    const ctx = kmsVia("sns", { "kms:EncryptionContext:aws:sns:topicArn": d.topicArn });
    key(central(role), "kms:GenerateDataKey", ctx, `${what} (encrypted topic)`, source, quarantine);
    key(central(role), "kms:Decrypt", ctx, `${what} (encrypted topic)`, source, quarantine);
  };

  /** A role in another account assumed through STS (the trust policy and the caller's policy both decide). */
  const assume = (
    principal: CallPrincipal,
    account: string,
    roleName: string,
    what: string,
    source: string,
    code: string,
    quarantine?: boolean,
  ) =>
    add({
      principal,
      action: "sts:AssumeRole",
      resource: `arn:${p}:iam::${account}:role/${roleName}`,
      resourceAccount: account,
      what,
      source,
      code,
      ...(quarantine ? { quarantine } : {}),
    });

  /** A service principal assuming a role it runs as (Lambda, Step Functions, Scheduler, EventBridge). */
  const serviceAssumes = (
    svc: string,
    roleArnOf: CallPrincipal,
    what: string,
    context: Record<string, string> = {},
    quarantine?: boolean,
  ) =>
    add({
      principal: service(svc),
      action: "sts:AssumeRole",
      resource: "",
      assumes: roleArnOf,
      resourceAccount: roleArnOf.kind === "member-role" ? roleArnOf.account : scanner,
      context,
      what,
      source: roleArnOf.kind === "central-role" ? ROLE_SOURCE[roleArnOf.role] : F.member,
      ...(quarantine ? { quarantine } : {}),
    });

  /** A function's own log group (Lambda writes it as the function's role) and X-Ray. */
  const lambdaRuntime = (
    role: CentralRoleId,
    logGroupArn: string,
    what: string,
    quarantine?: boolean,
    traced = true,
  ) => {
    const q = quarantine ? { quarantine } : {};
    const stream = `${logGroupArn}:log-stream:2026/01/02/[$LATEST]0123456789abcdef`;
    for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"])
      add({
        principal: central(role),
        action,
        resource: stream,
        resourceAccount: scanner,
        what: `${what}: its logs`,
        source: ROLE_SOURCE[role],
        ...q,
      });
    if (traced)
      for (const action of ["xray:PutTraceSegments", "xray:PutTelemetryRecords"])
        add({
          principal: central(role),
          action,
          resource: "*",
          resourceAccount: scanner,
          what: `${what}: active tracing`,
          source: ROLE_SOURCE[role],
          ...q,
        });
    serviceAssumes("lambda.amazonaws.com", central(role), `Lambda runs ${what} as its role`, {}, quarantine);
  };

  /** The deployed scan configuration's key (Discover and Enforce read it, the deployment writes it). */
  const cfg = scanConfigKey(d.prefix);
  /** Every account scanned: the management account's and the members'. */
  const accounts = [d.managementAccountId, ...d.memberAccountIds];

  return {
    d,
    calls,
    p,
    S,
    scanner,
    bucket,
    object,
    run,
    cfg,
    accounts,
    add,
    kmsVia,
    s3Kms,
    key,
    s3,
    publishToTopic,
    assume,
    serviceAssumes,
    lambdaRuntime,
  };
}
