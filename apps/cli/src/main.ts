import { DEFAULT_AUDIT_ROLE_NAME, EXIT, OrgMfaError } from "@orgmfa/core";
import { Command, CommanderError, Option } from "commander";
import {
  accountIds,
  checkCombinations,
  checkIds,
  duration,
  externalId,
  FAIL_ON,
  failOn,
  format,
  levelOf,
  logLevel,
  orgRoleArn,
  ouRefs,
  profile,
  region,
  roleName,
  s3Bucket,
  s3Prefix,
  scanningAccount,
  snsTopicArn,
  wholeNumber,
} from "./flags";
import { type Io, LOG_LEVELS, type LogLevel, sinks } from "./io";
import { DEFAULT_S3_PREFIX, FORMATS } from "./options";
import { VERSION } from "./version";

// Only what --version, --help and a usage error need is imported here. Each command's module is
// imported when the command runs (its code pulls in the AWS SDK), so those start in a fraction of the
// time: keep it so (scripts/build-cli.mjs splits the bundle at those imports).

export type { Io } from "./io";

/** --concurrency of scan, doctor and enforce. */
const concurrency = wholeNumber("--concurrency", 1, 256);
const tableOrJson = format(["table", "json"] as const);

/** `--format` and `--output` of `scan` and `report`: the same values, the same inference. */
const formatOption = () =>
  new Option(
    "--format <format>",
    `output format: ${FORMATS.join(", ")} (default: from --output's extension, else table)`,
  ).argParser(format(FORMATS));
const outputOption = () => new Option("--output <file>", "write the format to this file ('-' for stdout)");

interface Result {
  code: number;
  logLevel: LogLevel;
}

/**
 * Builds the `orgmfa` program; every action sets `result.code`. Every option with a value is parsed
 * and validated by its parser from flags.ts, and the rules between flags (checkCombinations) run
 * before any action: a command receives its flags checked and typed.
 */
export function program(io: Io, result: Result): Command {
  const { err } = sinks(io);
  const cmd = new Command("orgmfa")
    .description("Find every IAM user and root user without MFA across an AWS Organization.")
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => sinks(io).out.write(s), writeErr: (s) => err.write(s) })
    .showHelpAfterError("(run orgmfa --help for usage)")
    .addHelpText(
      "after",
      "\nExit codes: 0 all clear, 3 open findings at or above --fail-on, 4 an in-scope account not audited, 2 usage or configuration error, 1 anything else.",
    )
    .hook("preAction", (_program, action) => checkCombinations(action.opts()));

  /** The scanning identity's flags: every command that calls AWS takes them. */
  const identity = {
    profile: () => new Option("--profile <name>", "AWS named profile for the scanning identity").argParser(profile),
    region: () =>
      new Option("--region <region>", "AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / profile)").argParser(
        region,
      ),
    orgRoleArn: () =>
      new Option(
        "--org-role-arn <arn>",
        "role assumed for Organizations discovery (the management account's audit role)",
      ).argParser(orgRoleArn),
  };

  /** The scanning identity, the audit role and the scope: the same flags, meaning the same, for scan, doctor and enforce. */
  const withIdentityAndScope = (c: Command) =>
    c
      .addOption(identity.profile())
      .addOption(identity.region())
      .option("--role-name <name>", "audit role assumed in every member account", roleName, DEFAULT_AUDIT_ROLE_NAME)
      .option("--external-id <id>", "external id for the audit role's AssumeRole", externalId)
      .addOption(identity.orgRoleArn())
      .option("--accounts <ids>", "only these account ids (comma-separated)", accountIds("--accounts"))
      .option("--exclude-accounts <ids>", "skip these account ids (comma-separated)", accountIds("--exclude-accounts"))
      .option(
        "--ou <ous>",
        "only accounts under these OUs, nested OUs included: ids, paths (Root/Workloads/Prod) or names, comma-separated (orgmfa ous lists them)",
        ouRefs("--ou", "an OU id (ou-xxxx-xxxxxxxx), root id (r-xxxx), path (Root/Workloads/Prod) or name"),
      )
      .option(
        "--exclude-ou <ous>",
        "skip accounts under these OUs: ids, paths or names (comma-separated)",
        ouRefs("--exclude-ou", "an OU id (ou-xxxx-xxxxxxxx), root id (r-xxxx), path or name"),
      );

  const withLogging = (c: Command) =>
    c
      .addOption(new Option("--log-level <level>", `messages on stderr: ${LOG_LEVELS.join(", ")}`).argParser(logLevel))
      .option("--verbose", "same as --log-level info")
      .option("--debug", "same as --log-level debug (also prints stack traces)")
      .option("--quiet", "only errors on stderr (no progress, no warnings)", false);

  const tableOrJsonOption = (what = "table or json") =>
    new Option("--format <format>", what).argParser(tableOrJson).default("table");

  withLogging(
    withIdentityAndScope(
      cmd
        .command("scan")
        .description("Scan every account of the organization and report IAM users and root users without MFA."),
    )
      .option("--checks <ids>", "run only these checks (comma-separated; see orgmfa checks)", checkIds("--checks"))
      .option("--exclude-checks <ids>", "do not run these checks (comma-separated)", checkIds("--exclude-checks"))
      .option("--concurrency <n>", "accounts scanned at once", concurrency, 8)
      .option(
        "--per-account-concurrency <n>",
        "IAM calls in flight at once within one account (its live confirmations; default 4)",
        wholeNumber("--per-account-concurrency", 1, 32, " (IAM throttles an account beyond a few calls at once)"),
      )
      .option("--config <file>", "JSON config: checks, severities, exemptions, owner tag")
      .addOption(formatOption())
      .addOption(outputOption())
      .option("--out-dir <dir>", "write report.json, the CSV files, report.html and manifest.json here")
      .option(
        "--s3-bucket <bucket>",
        "store the report files in this bucket (and read the previous scan from it)",
        s3Bucket,
      )
      .option("--s3-prefix <prefix>", `key prefix in the bucket (default "${DEFAULT_S3_PREFIX}")`, s3Prefix)
      .option(
        "--security-hub",
        "import findings into Security Hub in each member account, archiving resolved ones",
        false,
      )
      .option("--sns-topic-arn <arn>", "publish the scan digest to this SNS topic", snsTopicArn)
      .addOption(
        new Option("--fail-on <severity>", `exit 3 when an open finding is at or above: ${FAIL_ON.join(", ")}`)
          .argParser(failOn)
          .default("HIGH"),
      )
      .option("--allow-partial", "do not exit 4 when some in-scope account could not be audited", false)
      .option("--progress", "print progress lines on stderr even when it is not a terminal")
      .option(
        "--max-report-age <duration>",
        "trust a credential report at most this old (e.g. 5m, 300s, 0 to confirm every user live; default 5m)",
        duration("--max-report-age"),
      )
      .option(
        "--complete-inventory",
        "list every user's MFA devices (one more IAM call per user whose MFA the virtual-device list proves)",
      )
      .option(
        "--assume-root",
        "read member accounts' root users through sts:AssumeRoot sessions (task policy IAMAuditRootUserCredentials, read-only) where the organization has centralized root access: every root device, and a root verdict where the audit role is missing",
      )
      .option("--no-color", "no colors in the table (NO_COLOR is honoured too; FORCE_COLOR forces them)"),
  ).action(async (o) => {
    result.logLevel = levelOf(o);
    const { runScanCommand } = await import("./scan");
    const { exitCode } = await runScanCommand(
      { ...o, logLevel: result.logLevel, quiet: o.quiet === true, color: o.color !== false },
      io,
    );
    result.code = exitCode;
  });

  cmd
    .command("report")
    .description("Re-render a saved report.json in another format (no AWS calls).")
    .argument("<report.json>", "a report written by orgmfa scan (--out-dir, --format json or S3); - for stdin")
    .addOption(formatOption())
    .addOption(outputOption())
    .option(
      "--region <region>",
      "the region the scan ran in, for --format asff and ocsf (default: the one the report records)",
      region,
    )
    .option(
      "--scanning-account <id>",
      "for --format asff: the account orgmfa scans from (default: the one the report records)",
      scanningAccount,
    )
    .addOption(
      new Option("--fail-on <severity>", "exit 3 when an open finding is at or above (default: none)").argParser(
        failOn,
      ),
    )
    .option("--allow-partial", "with --fail-on: do not exit 4 when the report says an account was not audited", false)
    .option("--no-color", "no colors in the table")
    .action(async (file: string, o) => {
      const { runReportCommand } = await import("./report");
      result.code = await runReportCommand(file, { ...o, color: o.color !== false }, io);
    });

  cmd
    .command("checks")
    .description("List every check: id, default severity, related controls, what it needs.")
    .addOption(tableOrJsonOption())
    // The table has no colours; the flag is accepted as every other command accepts it.
    .option("--no-color", "no colors (the checks table has none)")
    .action(async (o) => {
      const { renderChecks } = await import("./checks");
      sinks(io).out.write(renderChecks(o.format, (io.stdout as { columns?: number }).columns ?? 120));
      result.code = EXIT.OK;
    });

  cmd
    .command("ous")
    .description("List the organization's root and OUs with their ids and paths (what --ou and --exclude-ou take).")
    .addOption(identity.profile())
    .addOption(identity.region())
    .addOption(identity.orgRoleArn())
    .addOption(tableOrJsonOption())
    .option("--no-color", "no colors (the table has none)")
    .action(async (o) => {
      const { runOusCommand } = await import("./ous");
      result.code = await runOusCommand(o, io);
    });

  withLogging(
    withIdentityAndScope(
      cmd
        .command("doctor")
        .description(
          "Pre-flight before and after rolling out the member StackSet: credentials, Organizations, then every in-scope account (audit role, each IAM read, Security Hub), the bucket and the topic.",
        ),
    )
      .option("--config <file>", "JSON config (its scope: accounts, OUs)")
      .option("--concurrency <n>", "accounts checked at once", concurrency, 8)
      .option("--security-hub", "also check that Security Hub is enabled and readable in every account", false)
      .option("--s3-bucket <bucket>", "check that the report bucket can be reached", s3Bucket)
      .option("--s3-prefix <prefix>", `key prefix in the bucket (default "${DEFAULT_S3_PREFIX}")`, s3Prefix)
      .option("--sns-topic-arn <arn>", "check that the digest topic exists", snsTopicArn)
      .addOption(tableOrJsonOption())
      .option("--no-color", "no colors in the table"),
  ).action(async (o) => {
    result.logLevel = levelOf(o);
    const { runDoctorCommand } = await import("./doctor");
    result.code = await runDoctorCommand({ ...o, color: o.color !== false }, io);
  });

  withLogging(
    withIdentityAndScope(
      cmd
        .command("enforce")
        .description(
          "Quarantine sweep: console users without MFA into the quarantine group, users who enrolled, lost console access or became exempt out, as the config's `quarantine` says. Prints the plan; --apply makes the changes.",
        ),
    )
      .option("--config <file>", "JSON config: quarantine (mode by OU or account, grace), exemptions, scope")
      .option("--concurrency <n>", "accounts scanned and reconciled at once", concurrency, 8)
      .option("--apply", "make the changes (without it nothing changes: the plan is printed)", false)
      .option(
        "--previous <report.json>",
        "the previous scan's report (orgmfa scan --out-dir writes it): enrolment deadlines (quarantine.deadlineDays) run from when it first found each user",
      )
      .option(
        "--enforcer-role-name <name>",
        "the member enforcer role (default: the config's quarantine.roleName, else OrgMfaQuarantineRole)",
      )
      .addOption(tableOrJsonOption())
      .option("--no-color", "no colors in the table")
      .addHelpText("after", ENFORCE_HELP),
  ).action(async (o) => {
    result.logLevel = levelOf(o);
    const { runEnforceCommand } = await import("./enforce");
    result.code = await runEnforceCommand({ ...o, logLevel: result.logLevel, color: o.color !== false }, io);
  });

  cmd
    .command("demo")
    .description("Start the moto AWS emulator, seed an emulated organization, and scan it with the real code path.")
    .option("--out-dir <dir>", "where the report files go", "orgmfa-demo")
    .option("--keep-running", "leave the emulator running and print how to scan it again", false)
    .action(async (o) => {
      const { runDemo } = await import("./demo");
      result.code = await runDemo({ outDir: o.outDir, keepRunning: o.keepRunning }, io);
    });
  return cmd;
}

/** `orgmfa enforce --help`: the two modes side by side, and the rollout. */
const ENFORCE_HELP = `
Two ways to block console users without MFA (docs/quarantine.md, docs/scp-guardrail.md):
  group mode (this command, and the deployed daily sweep): each such user is put in a quarantine group
    whose policy denies everything but enrolling MFA; needs the member template with EnableQuarantine
    (and a CloudTrail trail for IAM's events); covers the management account; roll back with mode "off".
  SCP mode (the CDK app's "scp" setting): one service control policy on the OUs you name denies IAM users
    signed in without MFA everything but enrolment, for users that do not exist yet too; nothing is
    deployed in member accounts; never applies to the management account; roll back by detaching it.
Access keys are never blocked in either mode (API-only users are reported, not quarantined).

Rollout, OU by OU: "notify" (the plan says who would be quarantined; nothing changes) -> a deadline
("deadlineDays": 7; findings and the digest show "enrol by"; pass --previous <report.json> so the first-found
dates carry over) -> "enforce" (quarantined the first sweep after their deadline).
`;

/** Runs the CLI and returns its exit code. Never lets a stack trace be the only output. */
export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, handleSignals: true },
): Promise<number> {
  const result: Result = { code: EXIT.OK, logLevel: "warn" };
  const { err } = sinks(io);
  const args = argv.slice(2);
  const cmd = program(io, result);
  const known = cmd.commands.map((c) => c.name());
  if (args.length === 0) {
    err.write(cmd.helpInformation());
    err.write("\norgmfa: a command is required (scan, doctor, enforce, report, checks or demo).\n");
    return EXIT.USAGE;
  }
  if (args[0] === "help" && args[1] !== undefined && !known.includes(args[1])) {
    err.write(`orgmfa: unknown command '${args[1]}'. Commands: ${known.join(", ")}.\n`);
    return EXIT.USAGE;
  }
  try {
    await cmd.parseAsync(argv);
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    // An orgmfa error carries its kind: a usage, input or environment error's message is the whole
    // story for the person (its exit code, no trace); any other error is a failed run.
    if (e instanceof OrgMfaError && e.isPersonFacing) {
      err.write(`orgmfa: ${e.message}\n`);
      return e.exitCode;
    }
    const error = e as Error;
    err.write(`orgmfa: ${error?.message ?? String(e)}\n`);
    if (result.logLevel === "debug") err.write(`${error?.stack}\n`);
    else err.write("(run again with --debug for details)\n");
    return EXIT.ERROR;
  }
}
