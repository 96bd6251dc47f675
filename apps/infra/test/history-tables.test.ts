import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { historyFilePattern, publishStatements } from "@orgmfa/contract";
import {
  glueType,
  HISTORY_DATABASE,
  HISTORY_QUERIES,
  HISTORY_TABLES,
  HISTORY_WORKGROUP,
  historyColumns,
} from "@orgmfa/render";
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Key } from "aws-cdk-lib/aws-kms";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../lib";
import { HistoryTables } from "../lib/constructs/history-tables";
import { config, functionRolesOf, NO_BUNDLING, statementsIn, text } from "./helpers";

// The history's Glue tables, Athena workgroup and named queries (constructs/history-tables.ts): the
// columns are the ones @orgmfa/render generates from the report's schema, the queries the very SQL
// the DuckDB tests run.

describe("HistoryTables", () => {
  let central: Template;

  beforeAll(() => {
    const outdir = mkdtempSync(path.join(tmpdir(), "orgmfa-history-"));
    central = Template.fromStack(buildApp(config(), { outdir, context: NO_BUNDLING }).central);
  });

  const resources = (type: string) =>
    // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties, checked field by field below.
    Object.entries(central.findResources(type)) as Array<[string, { Properties: Record<string, any> }]>;

  it("deploys one Glue database and a table per history table, its columns generated from the report's schema", () => {
    const [[databaseId, database] = []] = resources("AWS::Glue::Database");
    expect(database?.Properties.DatabaseInput.Name).toBe(HISTORY_DATABASE);
    const tables = resources("AWS::Glue::Table").map(([, t]) => t.Properties);
    expect(tables.map((t) => t.TableInput.Name).sort()).toEqual([...HISTORY_TABLES].sort());
    for (const t of tables) {
      const table = t.TableInput.Name as (typeof HISTORY_TABLES)[number];
      expect(t.DatabaseName).toEqual({ Ref: databaseId });
      expect(t.TableInput.StorageDescriptor.Columns, table).toEqual(
        historyColumns(table).map((c) => ({ Name: c.name, Type: glueType(c.type) })),
      );
      expect(t.TableInput.PartitionKeys).toEqual([expect.objectContaining({ Name: "dt", Type: "string" })]);
      expect(t.TableInput.StorageDescriptor).toMatchObject({
        InputFormat: "org.apache.hadoop.mapred.TextInputFormat",
        OutputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
        Compressed: true,
        SerdeInfo: { SerializationLibrary: "org.openx.data.jsonserde.JsonSerDe" },
      });
      expect(text(t.TableInput.StorageDescriptor.Location)).toBe(`s3://<token>/orgmfa/history/${table}/`);
      // Partition projection on dt: no crawler, no partition to add.
      expect(t.TableInput.Parameters).toMatchObject({
        "projection.enabled": "true",
        "projection.dt.type": "date",
        "projection.dt.format": "yyyy-MM-dd",
        "projection.dt.range": "NOW-3YEARS,NOW",
        "projection.dt.interval": "1",
        "projection.dt.interval.unit": "DAYS",
        compressionType: "gzip",
      });
      const [template, vars] = t.TableInput.Parameters["storage.location.template"]["Fn::Sub"];
      expect(template).toBe(`s3://\${Bucket}/orgmfa/history/${table}/dt=\${!dt}/`);
      expect(vars.Bucket).toEqual({ Ref: expect.stringMatching(/^Reports[0-9A-F]{8}$/) });
    }
  });

  it("saves the named queries, the very SQL the DuckDB tests run, in the workgroup, on the database", () => {
    const [[workGroupId] = []] = resources("AWS::Athena::WorkGroup");
    const [[databaseId] = []] = resources("AWS::Glue::Database");
    const queries = resources("AWS::Athena::NamedQuery").map(([, q]) => q.Properties);
    expect(queries).toEqual(
      HISTORY_QUERIES.map((q) => ({
        Name: q.name,
        Description: q.description,
        QueryString: q.sql,
        Database: { Ref: databaseId },
        WorkGroup: { Ref: workGroupId },
      })),
    );
  });

  it("runs them in a workgroup on Athena engine 3 with a cutoff per query, results SSE-KMS in a bucket that expires them", () => {
    central.hasResourceProperties("AWS::Athena::WorkGroup", {
      Name: HISTORY_WORKGROUP,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: "Athena engine version 3" },
        ResultConfiguration: {
          EncryptionConfiguration: { EncryptionOption: "SSE_KMS", KmsKey: { "Fn::GetAtt": [Match.anyValue(), "Arn"] } },
          OutputLocation: Match.anyValue(),
        },
      },
    });
    central.hasResourceProperties("AWS::S3::Bucket", {
      // The results' encryption is the workgroup's (SSE_KMS above, enforced); the bucket's default is S3's.
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: "query-results/" },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ Id: "expire-query-results", ExpirationInDays: 30, Status: "Enabled" })],
      },
    });
  });

  it("lets Publish write exactly the history's files, and nothing more of history/", () => {
    const roles = functionRolesOf(central);
    const history = (role: string) =>
      statementsIn(central, role)
        .flatMap((st) => [st.Resource].flat().map(text))
        .filter((r) => r.includes("/history/"));
    expect(history(roles.publish).sort()).toEqual(
      HISTORY_TABLES.map((t) => `<Reports.Arn>/orgmfa/${historyFilePattern(t)}`).sort(),
    );
    expect(history(roles.discover)).toEqual([]);
    expect(history(roles.scanbatch)).toEqual([]);
    const write = publishStatements({
      partition: "aws",
      accountId: "222222222222",
      region: "eu-west-1",
      organizationId: "o-exampleorg1",
      managementAccountId: "111111111111",
      auditRoleName: "OrgMfaAuditRole",
      bucketArn: "arn:aws:s3:::bucket",
      prefix: "",
      kmsKeyArn: "k",
      topicArn: "t",
    }).find((st) => st.Sid === "WriteHistory");
    expect(write).toEqual({
      Sid: "WriteHistory",
      Effect: "Allow",
      Action: ["s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: HISTORY_TABLES.map((t) => `arn:aws:s3:::bucket/history/${t}/dt=*/*.jsonl.gz`),
    });
  });

  it("refuses settings that cannot work, saying which", () => {
    const make = (over: Record<string, number>) => {
      const stack = new Stack(new App(), "S");
      const key = new Key(stack, "K");
      return () =>
        new HistoryTables(stack, "H", {
          bucket: new Bucket(stack, "B"),
          prefix: "orgmfa",
          encryptionKey: key,
          accessLogs: new Bucket(stack, "L"),
          ...over,
        });
    };
    expect(make({ queryableYears: 0 })).toThrow(/queryableYears must be a whole number of at least 1, not 0/);
    expect(make({ bytesScannedCutoffPerQuery: 1000 })).toThrow(/at least 10000000 \(10 MB\), not 1000/);
    expect(make({ resultsExpirationDays: 1.5 })).toThrow(/resultsExpirationDays must be a whole number/);
    expect(make({})).not.toThrow();
  });
});
