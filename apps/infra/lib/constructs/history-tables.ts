import { historyTableKeyPrefix } from "@orgmfa/contract";
import {
  glueType,
  HISTORY_DATABASE,
  HISTORY_PARTITION,
  HISTORY_QUERIES,
  HISTORY_TABLE_DESCRIPTIONS,
  HISTORY_TABLES,
  HISTORY_WORKGROUP,
  type HistoryTable,
  historyColumns,
} from "@orgmfa/render";
import { Aws, Duration, Fn, RemovalPolicy } from "aws-cdk-lib";
import * as athena from "aws-cdk-lib/aws-athena";
import * as glue from "aws-cdk-lib/aws-glue";
import type * as kms from "aws-cdk-lib/aws-kms";
import * as s3 from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";

export interface HistoryTablesProps {
  /** The report bucket, where Publish writes the history (`<prefix>/history/…`). */
  readonly bucket: s3.IBucket;
  /** The report prefix, without slashes at either end (`""` for the bucket's root). */
  readonly prefix: string;
  /** The deployment's key: the history is SSE-KMS with it, and so is every query result (the workgroup's setting). */
  readonly encryptionKey: kms.IKey;
  /** Where the query-results bucket's server access logs go (the report bucket's access-log bucket). */
  readonly accessLogs: s3.IBucket;
  /**
   * How far back Athena looks for partitions (partition projection's range, `NOW-<years>YEARS,NOW`):
   * older history stays in the bucket and is queryable again with a longer range.
   * @default 3
   */
  readonly queryableYears?: number;
  /**
   * A query that would scan more than this is cancelled by the workgroup (Athena bills per byte
   * scanned, with a 10 MB minimum per query).
   * @default 10 GiB
   */
  readonly bytesScannedCutoffPerQuery?: number;
  /**
   * Days the query-results bucket keeps each result.
   * @default 30
   */
  readonly resultsExpirationDays?: number;
}

/** `users-without-mfa-by-ou-today` → `UsersWithoutMfaByOuToday`. */
const pascal = (id: string) => id.replace(/(^|[-_])(\w)/g, (_m, _d, c: string) => c.toUpperCase());

/**
 * The history, queryable (docs/history.md): a Glue database with one table per history table over
 * the files Publish writes — JSON Lines (gzip) read with the OpenX JSON SerDe, partitioned by `dt`
 * with partition projection (no crawler, no partition to add) —, an Athena workgroup (engine version
 * 3, results SSE-KMS in their own bucket, a cutoff per query) and the named queries people ask for.
 * Every table's columns are generated from the report's schema (`historyColumns` of @orgmfa/render),
 * the very columns the rows are written with.
 */
export class HistoryTables extends Construct {
  readonly database: glue.CfnDatabase;
  readonly tables: Record<HistoryTable, glue.CfnTable>;
  readonly workGroup: athena.CfnWorkGroup;
  /** Where the workgroup writes query results (kept `resultsExpirationDays`). */
  readonly results: s3.Bucket;
  readonly queries: athena.CfnNamedQuery[];

  constructor(scope: Construct, id: string, props: HistoryTablesProps) {
    super(scope, id);
    const years = props.queryableYears ?? 3;
    const cutoff = props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3;
    const expiration = props.resultsExpirationDays ?? 30;
    if (!Number.isInteger(years) || years < 1)
      throw new Error(`HistoryTables: queryableYears must be a whole number of at least 1, not ${years}`);
    // Athena's minimum cutoff is 10 MB.
    if (!Number.isInteger(cutoff) || cutoff < 10_000_000)
      throw new Error(`HistoryTables: bytesScannedCutoffPerQuery must be at least 10000000 (10 MB), not ${cutoff}`);
    if (!Number.isInteger(expiration) || expiration < 1)
      throw new Error(
        `HistoryTables: resultsExpirationDays must be a whole number of days, at least 1, not ${expiration}`,
      );

    this.database = new glue.CfnDatabase(this, "Database", {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: HISTORY_DATABASE,
        description: "orgmfa: every scan's findings, users, accounts and changes (docs/history.md)",
      },
    });

    const tables: Partial<Record<HistoryTable, glue.CfnTable>> = {};
    for (const table of HISTORY_TABLES) {
      const folder = historyTableKeyPrefix(props.prefix, table);
      const location = `s3://${props.bucket.bucketName}/${folder}`;
      tables[table] = new glue.CfnTable(this, `${pascal(table)}Table`, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: this.database.ref,
        tableInput: {
          name: table,
          description: HISTORY_TABLE_DESCRIPTIONS[table],
          tableType: "EXTERNAL_TABLE",
          parameters: {
            EXTERNAL: "TRUE",
            classification: "json",
            compressionType: "gzip",
            // Partition projection: Athena computes the partitions from the range, no crawler and no
            // partition to register ("Partition projection with Amazon Athena", Athena user guide).
            "projection.enabled": "true",
            [`projection.${HISTORY_PARTITION}.type`]: "date",
            [`projection.${HISTORY_PARTITION}.format`]: "yyyy-MM-dd",
            [`projection.${HISTORY_PARTITION}.range`]: `NOW-${years}YEARS,NOW`,
            [`projection.${HISTORY_PARTITION}.interval`]: "1",
            [`projection.${HISTORY_PARTITION}.interval.unit`]: "DAYS",
            // `${dt}` is Athena's, not CloudFormation's: escaped in the Sub as `${!dt}`.
            "storage.location.template": Fn.sub(
              `s3://\${Bucket}/${folder}${HISTORY_PARTITION}=\${!${HISTORY_PARTITION}}/`,
              {
                Bucket: props.bucket.bucketName,
              },
            ),
          },
          partitionKeys: [
            { name: HISTORY_PARTITION, type: "string", comment: "The UTC day the scan started (yyyy-MM-dd)" },
          ],
          storageDescriptor: {
            location,
            inputFormat: "org.apache.hadoop.mapred.TextInputFormat",
            outputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            compressed: true,
            serdeInfo: {
              serializationLibrary: "org.openx.data.jsonserde.JsonSerDe",
              // Every file is orgmfa's own, one valid JSON object per line: a malformed one is an error.
              parameters: { "ignore.malformed.json": "FALSE" },
            },
            columns: historyColumns(table).map((c) => ({ name: c.name, type: glueType(c.type) })),
          },
        },
      });
    }
    this.tables = tables as Record<HistoryTable, glue.CfnTable>;

    // ── Query results: their own bucket, encrypted, expired (they are copies of what the history holds) ──
    this.results = new s3.Bucket(this, "QueryResults", {
      // Each result is SSE-KMS with the deployment's key: the workgroup's encryption, which it enforces
      // on every query. The bucket's default (for anything else) is S3's own keys, so the report
      // bucket stays the deployment's one bucket whose default is the key.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.accessLogs,
      serverAccessLogsPrefix: "query-results/",
      lifecycleRules: [
        {
          id: "expire-query-results",
          expiration: Duration.days(expiration),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.workGroup = new athena.CfnWorkGroup(this, "WorkGroup", {
      name: HISTORY_WORKGROUP,
      description: "orgmfa: queries over the scan history (docs/history.md)",
      state: "ENABLED",
      workGroupConfiguration: {
        // Every query here runs with these settings, whatever the client asks.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: cutoff,
        engineVersion: { selectedEngineVersion: "Athena engine version 3" },
        resultConfiguration: {
          outputLocation: `s3://${this.results.bucketName}/`,
          expectedBucketOwner: Aws.ACCOUNT_ID,
          encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKey: props.encryptionKey.keyArn },
        },
      },
    });

    this.queries = HISTORY_QUERIES.map(
      (q) =>
        new athena.CfnNamedQuery(this, `${pascal(q.id)}Query`, {
          name: q.name,
          description: q.description,
          database: this.database.ref,
          workGroup: this.workGroup.ref,
          queryString: q.sql,
        }),
    );
    // The queries name the tables; have them there first.
    for (const q of this.queries) q.node.addDependency(...Object.values(this.tables));
  }
}
