import {
  CreateLoginProfileCommand,
  CreateUserCommand,
  DeactivateMFADeviceCommand,
  DeleteLoginProfileCommand,
  GetGroupCommand,
  IAMClient,
  RemoveUserFromGroupCommand,
} from "@aws-sdk/client-iam";
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { runWorkflowLocally } from "@orgmfa/aws";
import type { AccountTarget } from "@orgmfa/core";
import {
  accountAdminCredentials,
  DEMO_ORG,
  DeliveryReader,
  type Emulator,
  enrolVirtualMfa,
  FORWARDING_DLQ_NAME,
  REGION,
  roleCredentials,
  type SeededDelivery,
  type SeededOrg,
  seedDelivery,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import { forgetDeployedConfig, handler, IAM_EVENT_NAMES, type IamCloudTrailEvent } from "@orgmfa/functions/enforce";
import type { RunRef } from "@orgmfa/functions/run-store";
import { metrics } from "@orgmfa/functions/runtime";
import type { AwsCredentialIdentity } from "@smithy/types";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { cleanEnv } from "./helpers";

// The Enforce handler as EventBridge invokes it, as the deployed Enforce role (its statements from
// policies.ts) with IAM enforcement on, fed IAM's CloudTrail events as the member accounts forward them.
// The member StackSet forwards IAM's events (each member account has the forwarding dead-letter queue);
// the management account's stack does not, as where the deployment's region is not us-east-1.
let emu: Emulator;
let org: SeededOrg;
let delivery: SeededDelivery;
let enforceRole: AwsCredentialIdentity;
const saved = { ...process.env };
const GROUP = "OrgMfaQuarantine";

beforeAll(async () => {
  emu = await startEmulator();
  org = await seedOrganization(emu, { ...DEMO_ORG, quarantine: true, forwardIamEvents: true });
  delivery = await seedDelivery(emu.endpoint, org, { as: "workflow", scanConfig: { quarantine: { mode: "enforce" } } });
  enforceRole = await roleCredentials(emu.endpoint, delivery.roles?.enforce as string, "enforce");
  await emu.setIamEnforcement(true);
  process.env = cleanEnv({
    AWS_ENDPOINT_URL: emu.endpoint,
    AWS_REGION: REGION,
    REPORT_BUCKET: delivery.bucket,
    REPORT_PREFIX: delivery.prefix,
    KMS_KEY_ID: delivery.kmsKeyArn,
    CONFIG_KEY: delivery.configKey,
    DIGEST_TOPIC_ARN: delivery.topicArn,
    POWERTOOLS_LOG_LEVEL: "ERROR",
    POWERTOOLS_METRICS_DISABLED: "true",
    AWS_ACCESS_KEY_ID: enforceRole.accessKeyId,
    AWS_SECRET_ACCESS_KEY: enforceRole.secretAccessKey,
    AWS_SESSION_TOKEN: enforceRole.sessionToken,
  });
  forgetDeployedConfig();
});
afterAll(async () => {
  process.env = saved;
  await emu?.stop();
});

const account = () => org.accounts["dev-platform"] as string;
/** The run the daily sweep test made (Discover → ScanBatch → Publish), swept again by the tests after it. */
let swept: RunRef | undefined;
/** An "AWS API Call via CloudTrail" event of IAM, as forwarded from the member account's us-east-1 bus. */
const event = (eventName: string, userName: string | null, extra: Partial<IamCloudTrailEvent["detail"]> = {}) => ({
  version: "0",
  id: `${eventName}-${userName}-${Math.random()}`,
  "detail-type": "AWS API Call via CloudTrail",
  source: "aws.iam",
  account: account(),
  time: new Date().toISOString(),
  region: "us-east-1",
  resources: [],
  detail: {
    eventSource: "iam.amazonaws.com",
    eventName,
    requestParameters: userName ? { userName } : { serialNumber: `arn:aws:iam::${account()}:mfa/some-device` },
    ...extra,
  },
});

const admin = <T>(act: (iam: IAMClient) => Promise<T>) =>
  emu.unenforced(async () => {
    const iam = new IAMClient({
      region: REGION,
      endpoint: emu.endpoint,
      credentials: await accountAdminCredentials(emu.endpoint, account()),
    });
    try {
      return await act(iam);
    } finally {
      iam.destroy();
    }
  });
const members = () =>
  admin(async (iam) =>
    ((await iam.send(new GetGroupCommand({ GroupName: GROUP }))).Users ?? []).map((u) => u.UserName).sort(),
  );
let device = 0;
const enrol = (userName: string) => admin((iam) => enrolVirtualMfa(iam, userName, `${userName}-${++device}`));

describe("the Enforce handler, fed IAM's CloudTrail events (emulator, IAM enforcement on)", () => {
  it("follows one user through every change, each event reading the state as it is now", async () => {
    // A console password without MFA: in.
    expect((await handler(event("CreateLoginProfile", "heidi"))).decision).toMatchObject({
      action: { kind: "quarantine", via: "group" },
      applied: true,
    });
    expect(await members()).toEqual(["heidi"]);
    // The change is kept as evidence and said on the digest topic.
    const { records, message } = await emu.unenforced(async () => {
      const reader = new DeliveryReader(emu.endpoint, delivery, org);
      return { records: await reader.keys("orgmfa/quarantine/"), message: (await reader.messages()).at(-1) };
    });
    expect(records).toEqual([
      expect.stringMatching(new RegExp(`^orgmfa/quarantine/\\d{4}/\\d{2}/\\d{2}/.*-${account()}-heidi\\.json$`)),
    ]);
    expect(message?.Subject).toBe(`orgmfa quarantine: heidi in ${account()} quarantined`);
    // The same event again (EventBridge delivers at least once): nothing more to do.
    expect((await handler(event("CreateLoginProfile", "heidi"))).decision?.action).toEqual({ kind: "none" });
    // Someone takes them out of the group by hand: the event puts them back.
    await admin((iam) => iam.send(new RemoveUserFromGroupCommand({ GroupName: GROUP, UserName: "heidi" })));
    await handler(event("RemoveUserFromGroup", "heidi"));
    expect(await members()).toEqual(["heidi"]);
    // They enrol: out. A late, older event (the password being set) changes nothing.
    const serial = await enrol("heidi");
    expect((await handler(event("EnableMFADevice", "heidi"))).decision).toMatchObject({
      action: { kind: "release" },
      applied: true,
    });
    await handler(event("CreateLoginProfile", "heidi"));
    expect(await members()).toEqual([]);
    // The device is deactivated: in again.
    await admin((iam) => iam.send(new DeactivateMFADeviceCommand({ UserName: "heidi", SerialNumber: serial })));
    await handler(event("DeactivateMFADevice", "heidi"));
    expect(await members()).toEqual(["heidi"]);
    // The console password is removed: an API-only user is never quarantined.
    await admin((iam) => iam.send(new DeleteLoginProfileCommand({ UserName: "heidi" })));
    expect((await handler(event("DeleteLoginProfile", "heidi"))).decision?.reason).toMatch(/API-only/);
    expect(await members()).toEqual([]);
  });

  it("ignores what names no user, calls that failed, and other events", async () => {
    expect((await handler(event("DeleteVirtualMFADevice", null))).ignored).toMatch(/names no user/);
    expect((await handler(event("CreateLoginProfile", "newbie", { errorCode: "AccessDenied" }))).ignored).toMatch(
      /the call failed/,
    );
    expect((await handler({ ...event("CreateLoginProfile", "heidi"), source: "aws.s3" })).ignored).toMatch(
      /not one of/,
    );
  });

  it("ends in the same state whatever the order and however often each event comes", async () => {
    await admin(async (iam) => {
      await iam.send(new CreateUserCommand({ UserName: "newbie" }));
      await iam.send(new CreateLoginProfileCommand({ UserName: "newbie", Password: "Correct-Horse-9" }));
      await iam.send(new CreateUserCommand({ UserName: "veteran" }));
      await iam.send(new CreateLoginProfileCommand({ UserName: "veteran", Password: "Correct-Horse-9" }));
    });
    await enrol("veteran");
    // Every event name for both users, twice, in a shuffled order (a fixed seed: the same every run).
    const events = [...IAM_EVENT_NAMES, ...IAM_EVENT_NAMES].flatMap((name) => [
      event(name, "newbie"),
      event(name, "veteran"),
    ]);
    let seed = 7;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = events.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [events[i], events[j]] = [events[j] as (typeof events)[number], events[i] as (typeof events)[number]];
    }
    for (const e of events) await handler(e);
    expect(await members()).toEqual(["newbie"]);
  });

  it("a user deleted since the event is left alone", async () => {
    const r = await handler(event("DeleteUser", "nobody-anymore"));
    expect(r.decision).toMatchObject({ action: { kind: "none" }, reason: "the user no longer exists" });
  });

  it("takes the caller for the user when the call names none: an IAM user who deactivates their own MFA is quarantined", async () => {
    await admin(async (iam) => {
      await iam.send(new CreateUserCommand({ UserName: "selfie" }));
      await iam.send(new CreateLoginProfileCommand({ UserName: "selfie", Password: "Correct-Horse-9" }));
    });
    const serial = await enrol("selfie");
    expect(await members()).not.toContain("selfie");
    // `aws iam deactivate-mfa-device --serial-number …` without --user-name: IAM takes the caller, and
    // CloudTrail's requestParameters name only the device.
    await admin((iam) => iam.send(new DeactivateMFADeviceCommand({ UserName: "selfie", SerialNumber: serial })));
    const caller = (over: Record<string, string>) => ({
      userIdentity: {
        type: "IAMUser",
        principalId: "AIDAEXAMPLESELFIE",
        arn: `arn:aws:iam::${account()}:user/selfie`,
        accountId: account(),
        accessKeyId: "AKIAEXAMPLESELFIE",
        userName: "selfie",
        ...over,
      },
    });
    // Not an IAM user of this account: a role's session, or a user of another account, is never the subject.
    expect((await handler(event("DeactivateMFADevice", null, caller({ type: "AssumedRole" })))).ignored).toMatch(
      /names no user/,
    );
    expect((await handler(event("DeactivateMFADevice", null, caller({ accountId: "999999999999" })))).ignored).toMatch(
      /names no user/,
    );
    expect(await members()).not.toContain("selfie");
    const r = await handler(event("DeactivateMFADevice", null, caller({})));
    expect(r).toMatchObject({ userName: "selfie", decision: { action: { kind: "quarantine" }, applied: true } });
    expect(await members()).toContain("selfie");
    // A user named in the call is the subject, whoever called.
    expect((await handler(event("DeactivateMFADevice", "heidi", caller({})))).userName).toBe("heidi");
    // Left as the other tests expect: no console password, out of the group.
    await admin((iam) => iam.send(new DeleteLoginProfileCommand({ UserName: "selfie" })));
    await handler(event("DeleteLoginProfile", null, caller({})));
    expect(await members()).not.toContain("selfie");
  });

  it("the daily sweep after Publish quarantines every console user without MFA the run found, records it and says so", async () => {
    const roles = delivery.roles as NonNullable<SeededDelivery["roles"]>;
    await emu.setIamEnforcement(false);
    const creds = {
      discover: await roleCredentials(emu.endpoint, roles.discover, "discover"),
      scanBatch: await roleCredentials(emu.endpoint, roles.scanBatch, "scan-batch"),
      publish: await roleCredentials(emu.endpoint, roles.publish, "publish"),
    };
    await emu.setIamEnforcement(true);
    const as = async <T>(c: AwsCredentialIdentity, run: () => Promise<T>): Promise<T> => {
      const before = { ...process.env };
      Object.assign(process.env, {
        AWS_ACCESS_KEY_ID: c.accessKeyId,
        AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
        AWS_SESSION_TOKEN: c.sessionToken,
        AUDIT_ROLE_NAME: "OrgMfaAuditRole",
        ORG_ROLE_ARN: org.orgRoleArn,
        DIGEST_TOPIC_ARN: delivery.topicArn,
        SECURITY_HUB: "false",
        ACCOUNT_CONCURRENCY: "3",
      });
      try {
        return await run();
      } finally {
        process.env = before;
      }
    };
    const discover = (await import("@orgmfa/functions/discover")).handler;
    const owners = (await import("@orgmfa/functions/owners")).handler;
    const scanBatch = (await import("@orgmfa/functions/scan-batch")).handler;
    const publish = (await import("@orgmfa/functions/publish")).handler;
    // The deployed workflow with the quarantine: Discover → (ScanBatch ‖ Owners) → Publish → QuarantineSweep.
    const run = await runWorkflowLocally(
      {
        discover: (event) => as(creds.discover, () => discover(event)),
        items: (ref) =>
          emu.unenforced(async () => {
            const reader = new DeliveryReader(emu.endpoint, delivery, org);
            return JSON.parse((await reader.object(ref.targetsKey)).body.toString()) as AccountTarget[];
          }),
        scanBatch: (event) => as(creds.scanBatch, () => scanBatch(event)),
        owners: (input) => as(creds.discover, () => owners(input)),
        publish: (event) => as(creds.publish, () => publish(event)),
        sweep: (event) => as(enforceRole, () => handler(event)),
      },
      {},
      { batchSize: 10, maxConcurrency: 1 },
    );
    const ref = run.ref as RunRef;
    expect(run.mapError).toBeNull();
    const summary = run.sweep as Awaited<ReturnType<typeof handler>>;
    swept = ref;

    const inGroup = (name: string) =>
      emu.unenforced(async () => {
        const iam = new IAMClient({
          region: REGION,
          endpoint: emu.endpoint,
          credentials: await accountAdminCredentials(emu.endpoint, org.accounts[name] as string),
        });
        const users = ((await iam.send(new GetGroupCommand({ GroupName: GROUP }))).Users ?? []).map((u) => u.UserName);
        iam.destroy();
        return users.sort();
      });
    expect(await inGroup("prod-payments")).toEqual(["alice"]);
    expect(await inGroup("prod-web")).toEqual(["frank", "grace"]);
    expect(await inGroup("sandbox-ml")).toEqual(["mallory"]);
    expect(await inGroup("dev-platform")).toEqual(["newbie"]); // quarantined by an event earlier
    expect(summary).toMatchObject({
      scanId: ref.scanId,
      quarantined: 4,
      released: 0,
      failed: 0,
      accountsNotReconciled: 0,
      // Every forwarding queue empty; the management account has none (not a failure, not announced).
      forwarding: { eventsNotForwarded: 0, accountsNotForwarding: 0, accountsUnread: 1 },
    });
    const { record, digest } = await emu.unenforced(async () => {
      const reader = new DeliveryReader(emu.endpoint, delivery, org);
      return {
        record: JSON.parse((await reader.object(`orgmfa/runs/${ref.scanId}/quarantine.json`)).body.toString()),
        digest: (await reader.messages()).at(-1),
      };
    });
    expect(record.decisions.filter((d: { applied: boolean }) => d.applied)).toHaveLength(4);
    // Each audited account's forwarding queue, read through its enforcer role in us-east-1: the StackSet's
    // accounts have one (empty), the management account none — SQS's QueueDoesNotExist, as in AWS.
    const audited = ["management", "security-tooling", "prod-payments", "prod-web", "dev-platform", "sandbox-ml"];
    expect(record.forwardingQueues).toEqual(
      audited
        .map((name) => org.accounts[name] as string)
        .sort()
        .map((accountId) =>
          accountId === org.managementAccountId
            ? {
                accountId,
                events: null,
                unknown: {
                  reason: "not-deployed",
                  code: expect.stringMatching(/QueueDoesNotExist|NonExistentQueue/),
                  message: expect.any(String),
                },
              }
            : { accountId, events: 0, unknown: null },
        ),
    );
    expect(digest?.Subject).toBe("orgmfa quarantine: 4 quarantined, 0 released, 0 pending");
    expect(digest?.Message).not.toMatch(/not forwarded/);
    expect(digest?.Message).toMatch(/alice: quarantined — console password without MFA/);
    // API-only users without MFA are named, never quarantined.
    const apiOnly = digest?.Message.split("\n\nAPI-only users without MFA (2), never quarantined")[1]
      ?.split("\n")
      .slice(1);
    expect(apiOnly?.map((l) => l.split(" ")[1]).sort()).toEqual(["ci-deploy", "ivan"]);
  });
  it("the sweep names the accounts whose IAM events could not be forwarded, counts them in IamEventsNotForwarded, and records them", async () => {
    const ref = swept as RunRef;
    expect(ref).toBeDefined();
    // EventBridge could not deliver to the central bus: its dead letters wait in the member accounts'
    // queues — two in prod-web (one of them received by someone looking, not deleted), one in dev-platform.
    const deadLetters = async (name: string, count: number, receive = 0) =>
      emu.unenforced(async () => {
        const accountId = org.accounts[name] as string;
        const sqs = new SQSClient({
          region: REGION,
          endpoint: emu.endpoint,
          credentials: await accountAdminCredentials(emu.endpoint, accountId),
        });
        try {
          const QueueUrl = `${emu.endpoint}/${accountId}/${FORWARDING_DLQ_NAME}`;
          for (let i = 0; i < count; i++)
            await sqs.send(
              new SendMessageCommand({
                QueueUrl,
                MessageBody: JSON.stringify({ "detail-type": "AWS API Call via CloudTrail", i }),
              }),
            );
          if (receive)
            expect(
              (
                await sqs.send(
                  new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: receive, VisibilityTimeout: 600 }),
                )
              ).Messages,
            ).toHaveLength(receive);
        } finally {
          sqs.destroy();
        }
      });
    await deadLetters("prod-web", 2, 1);
    await deadLetters("dev-platform", 1);
    const published = vi.spyOn(metrics, "addMetric");
    let summary: Awaited<ReturnType<typeof handler>>;
    try {
      summary = await handler({ sweep: ref });
      expect(published).toHaveBeenCalledWith("IamEventsNotForwarded", "Count", 3);
    } finally {
      published.mockRestore();
    }
    // Nothing to change this time; the accounts without a queue are counted apart, never as failures.
    expect(summary).toMatchObject({
      quarantined: 0,
      released: 0,
      failed: 0,
      accountsNotReconciled: 0,
      forwarding: { eventsNotForwarded: 3, accountsNotForwarding: 2, accountsUnread: 1 },
    });
    const { record, digest } = await emu.unenforced(async () => {
      const reader = new DeliveryReader(emu.endpoint, delivery, org);
      return {
        record: JSON.parse((await reader.object(`orgmfa/runs/${ref.scanId}/quarantine.json`)).body.toString()),
        digest: (await reader.messages()).at(-1),
      };
    });
    const prodWeb = org.accounts["prod-web"] as string;
    const devPlatform = org.accounts["dev-platform"] as string;
    expect(record.forwarding).toEqual({ eventsNotForwarded: 3, accountsNotForwarding: 2, accountsUnread: 1 });
    expect(
      (record.forwardingQueues as Array<{ accountId: string; events: number | null }>).filter((b) => b.events),
    ).toEqual(
      [
        { accountId: prodWeb, events: 2, unknown: null },
        { accountId: devPlatform, events: 1, unknown: null },
      ].sort((a, b) => a.accountId.localeCompare(b.accountId)),
    );
    // Said on the digest topic even though nothing changed: the accounts, by name, and what to do.
    expect(digest?.Subject).toBe("orgmfa quarantine: 0 quarantined, 0 released, 0 pending, 3 IAM events not forwarded");
    const section = digest?.Message.split("\n\n").find((p) => p.startsWith("IAM events not forwarded"));
    expect(section?.split("\n")[0]).toMatch(
      /^IAM events not forwarded to the central bus \(2 accounts, 3 IAM events\).*fix the forwarding.*then purge the queue/,
    );
    expect(section?.split("\n").slice(1).sort()).toEqual(
      [
        `${prodWeb} (prod-web): 2 IAM events not forwarded`,
        `${devPlatform} (dev-platform): 1 IAM event not forwarded`,
      ].sort(),
    );
    // The management account has no forwarding queue: not named.
    expect(section).not.toContain(org.managementAccountId);
  });
});
