import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import {
  CONFIGURATIONS,
  config,
  functionRolesOf,
  type Statement,
  statementsIn,
  synth,
  synthTemplates,
  text,
} from "./helpers";

// The report store (constructs/report-store.ts): the key, the bucket, its lifecycle and Object Lock, the scan configuration object.

describe("CentralStack and ManagementAccountStack", () => {
  let central: Template;

  beforeAll(() => {
    ({ central } = synthTemplates(config(CONFIGURATIONS.objectLock)));
  });
  /** Each function's role (logical id), by the function's construct id. */
  const functionRoles = () => functionRolesOf(central);
  const statementsOf = (role: string): Statement[] => statementsIn(central, role);

  it("encrypts with one rotating key and keeps the report bucket private, TLS-only, versioned, logged, locked", () => {
    central.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    central.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: Match.anyValue() },
            BucketKeyEnabled: true,
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: "Enabled" },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: "reports/" },
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: "Enabled",
        Rule: { DefaultRetention: { Mode: "GOVERNANCE", Days: 400 } },
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: "orgmfa/scans/",
            Transitions: Match.arrayWith([Match.objectLike({ StorageClass: "STANDARD_IA", TransitionInDays: 90 })]),
          }),
          Match.objectLike({ Prefix: "orgmfa/runs/", ExpirationInDays: 7 }),
        ]),
      },
    });
    central.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("stores the scan configuration in the bucket at deploy time, by a function that may put only that object", () => {
    const [id, written] = Object.entries(central.findResources("Custom::OrgMfaScanConfig"))[0] ?? [];
    const call = JSON.parse(text(written?.Properties.Update));
    expect(call).toMatchObject({
      service: "S3",
      action: "putObject",
      parameters: { Bucket: "<token>", Key: "orgmfa/config/scan-config.json", ContentType: "application/json" },
    });
    expect(JSON.parse(call.parameters.Body)).toEqual(config().scan);
    expect(JSON.parse(text(written?.Properties.Create))).toEqual(call); // created and updated alike
    expect(written?.Properties.Delete).toBeUndefined(); // a stack deletion leaves every version
    // The writer's role: PutObject on that key, GenerateDataKey on the key, its own log group. Nothing else.
    const writer = Object.entries(central.findResources("AWS::Lambda::Function")).find(([fid]) =>
      fid.startsWith("AWS679f53fa"),
    )?.[1];
    const role = writer?.Properties.Role["Fn::GetAtt"][0] as string;
    const granted = statementsOf(role).map((st) => [st.Action, [st.Resource].flat().map(text)]);
    expect(granted).toEqual(
      expect.arrayContaining([
        ["s3:PutObject", ["<Reports.Arn>/orgmfa/config/scan-config.json"]],
        ["kms:GenerateDataKey", ["<token>"]],
        [["logs:CreateLogStream", "logs:PutLogEvents"], ["<token>"]],
      ]),
    );
    expect(granted).toHaveLength(3);
    expect(central.findResources("AWS::IAM::Role")[role]?.Properties.ManagedPolicyArns).toBeUndefined();
    // Discover reads it (its key in the environment, GetObject on it), and is created after it.
    const fns = central.findResources("AWS::Lambda::Function");
    const [discoverId, discover] = Object.entries(fns).find(([fid]) => fid.startsWith("discover")) ?? [];
    expect(discover?.Properties.Environment.Variables.CONFIG_KEY).toBe("orgmfa/config/scan-config.json");
    for (const [fid, f] of Object.entries(fns))
      if (fid !== discoverId) expect(f.Properties.Environment?.Variables?.CONFIG_KEY, fid).toBeUndefined();
    expect(discover?.DependsOn).toEqual(expect.arrayContaining([id]));
    expect(
      statementsOf(functionRoles().discover).find(
        (st) => st.Sid === "ReadScanConfigLatestReportTargetsOwnerTagCacheAndPace",
      )?.Resource,
    ).toBeDefined();
    expect(central.toJSON().Outputs.ScanConfigUri).toBeDefined();
  });

  it("locks each scan's files: Object Lock on, retention set per object by Publish, never a default for the whole bucket", () => {
    const { central: stack } = synth(config());
    const t = Template.fromStack(stack);
    const [bucket] = Object.entries(t.findResources("AWS::S3::Bucket")).filter(
      ([, b]) => b.Properties.ObjectLockEnabled !== undefined,
    );
    expect(bucket?.[1].Properties.ObjectLockEnabled).toBe(true);
    // A bucket default would lock the run state (a result object per account a day), latest/ and the config.
    expect(bucket?.[1].Properties.ObjectLockConfiguration).toBeUndefined();
    const rules = bucket?.[1].Properties.LifecycleConfiguration.Rules as Array<Record<string, unknown>>;
    const rule = (id: string) => rules.find((r) => r.Id === id);
    // A past version of a scan's file is kept at least as long as its lock (lifecycle cannot delete a locked one).
    expect(rule("reports-to-cheaper-storage")).toMatchObject({
      Prefix: "orgmfa/scans/",
      NoncurrentVersionExpiration: { NoncurrentDays: 365 },
    });
    expect(rule("reports-to-cheaper-storage")?.ExpirationInDays).toBeUndefined();
    // latest/ is rewritten every run: its past versions (copies of scans/) go after a week.
    expect(rule("expire-past-latest")).toMatchObject({
      Prefix: "orgmfa/latest/",
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
      Status: "Enabled",
    });
    expect(rule("expire-past-latest")?.ExpirationInDays).toBeUndefined();
    // Publish sets the retention: the days in its environment, s3:PutObjectRetention on scans/ only.
    const publish = Object.entries(t.findResources("AWS::Lambda::Function")).find(([fid]) =>
      fid.startsWith("publish"),
    )?.[1];
    expect(publish?.Properties.Environment.Variables.EVIDENCE_RETENTION_DAYS).toBe("365");
    const lock = statementsOf(functionRoles().publish).filter((st) =>
      [st.Action].flat().includes("s3:PutObjectRetention"),
    );
    expect(lock.map((st) => [st.Action, [st.Resource].flat().map(text)])).toEqual([
      ["s3:PutObjectRetention", ["<Reports.Arn>/orgmfa/scans/*"]],
    ]);
    // Nobody of orgmfa may bypass or shorten a lock.
    for (const role of Object.values(functionRoles()))
      expect(statementsOf(role).flatMap((st) => [st.Action].flat())).not.toContain("s3:BypassGovernanceRetention");
    // The configured days reach Publish and the scans/ rule; a bucket default only when asked for.
    const longer = Template.fromStack(synth(config({ evidenceRetentionDays: 2555 })).central);
    const locked = Object.values(longer.findResources("AWS::S3::Bucket")).find(
      (b) => b.Properties.ObjectLockEnabled !== undefined,
    );
    const lockedRules = (locked?.Properties.LifecycleConfiguration.Rules ?? []) as Array<Record<string, unknown>>;
    expect(lockedRules.find((r) => r.Id === "reports-to-cheaper-storage")).toMatchObject({
      NoncurrentVersionExpiration: { NoncurrentDays: 2555 },
    });
    expect(() => config({ evidenceRetentionDays: 0 })).toThrow(/evidenceRetentionDays/);
  });
});
