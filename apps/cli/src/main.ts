import { EXIT, type FailOn, SEVERITIES } from "@orgmfa/core";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { type Io, LOG_LEVELS, type LogLevel, sinks } from "./io";
import { DEFAULT_S3_PREFIX, FORMATS, type Format } from "./options";
import { VERSION } from "./version";

// Commands are loaded when they run (their code pulls in the AWS SDK): `--version`, `--help` and a
// usage error start in a fraction of the time.
/** Errors whose message is the whole story for the user: exit 2, no trace. */
const USAGE_ERRORS = new Set(["UsageError", "ConfigError", "EmulatorNotFoundError"]);

export type { Io } from "./io";

/** A comma-separated list; an empty one (`--accounts ""`, `--accounts ,`) is refused by the command. */
const list = (v: string): string[] =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const int = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v.trim())) throw new InvalidArgumentError(`${flag} takes a whole number, not "${v}"`);
  return Number(v);
};
/** `5m`, `300s`, `1h`, `1500ms` or a bare number of seconds, as milliseconds. */
const duration = (flag: string) => (v: string) => {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new InvalidArgumentError(`${flag}: "${v}" is not a duration such as 5m, 300s or 0`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  return Number(m[1]) * unit;
};
const FAIL_ON = [...SEVERITIES, "none"] as const;
/** `--fail-on`: any severity or none, in any case. */
const failOn = (v: string): FailOn => {
  const up = v.trim().toUpperCase();
  if (up === "NONE") return "none";
  if ((SEVERITIES as readonly string[]).includes(up)) return up as FailOn;
  throw new InvalidArgumentError(`--fail-on: "${v}" must be one of ${FAIL_ON.join(", ")} (any case)`);
};
const format = (allowed: readonly string[]) => (v: string) => {
  const f = v.trim().toLowerCase();
  if (!allowed.includes(f)) throw new InvalidArgumentError(`--format: "${v}" must be one of ${allowed.join(", ")}`);
  return f;
};
const logLevel = (v: string): LogLevel => {
  const l = v.trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(l))
    throw new InvalidArgumentError(`--log-level: "${v}" must be one of ${LOG_LEVELS.join(", ")}`);
  return l as LogLevel;
};

/** `--format` and `--output` of `scan` and `report`: the same values, the same inference. */
const formatOption = () =>
  new Option(
    "--format <format>",
    `output format: ${FORMATS.join(", ")} (default: from --output's extension, else table)`,
  ).argParser(format(FORMATS));
const outputOption = () => new Option("--output <file>", "write the format to this file ('-' for stdout)");

/** The log level the flags ask for: --log-level, else --debug / --verbose / --quiet, else warn. */
function levelOf(o: { logLevel?: LogLevel; debug?: boolean; verbose?: boolean; quiet?: boolean }): LogLevel {
  return o.logLevel ?? (o.debug ? "debug" : o.verbose ? "info" : o.quiet ? "error" : "warn");
}

interface Result {
  code: number;
  logLevel: LogLevel;
}

/** Builds the `orgmfa` program; every action sets `result.code`. */
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
    );

  /** The scanning identity and the scope: the same flags, meaning the same, for scan and doctor. */
  const withIdentityAndScope = (c: Command) =>
    c
      .option("--profile <name>", "AWS named profile for the scanning identity")
      .option("--region <region>", "AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / profile)")
      .option("--role-name <name>", "audit role assumed in every member account", "OrgMfaAuditRole")
      .option("--external-id <id>", "external id for the audit role's AssumeRole")
      .option("--org-role-arn <arn>", "role assumed for Organizations discovery (the management account's audit role)")
      .option("--accounts <ids>", "only these account ids (comma-separated)", list)
      .option("--exclude-accounts <ids>", "skip these account ids (comma-separated)", list)
      .option(
        "--ou <ous>",
        "only accounts under these OUs, nested OUs included: ids, paths (Root/Workloads/Prod) or names, comma-separated (orgmfa ous lists them)",
        list,
      )
      .option("--exclude-ou <ous>", "skip accounts under these OUs: ids, paths or names (comma-separated)", list);

  const withLogging = (c: Command) =>
    c
      .addOption(new Option("--log-level <level>", `messages on stderr: ${LOG_LEVELS.join(", ")}`).argParser(logLevel))
      .option("--verbose", "same as --log-level info")
      .option("--debug", "same as --log-level debug (also prints stack traces)")
      .option("--quiet", "only errors on stderr (no progress, no warnings)", false);

  withLogging(
    withIdentityAndScope(
      cmd
        .command("scan")
        .description("Scan every account of the organization and report IAM users and root users without MFA."),
    )
      .option("--checks <ids>", "run only these checks (comma-separated; see orgmfa checks)", list)
      .option("--exclude-checks <ids>", "do not run these checks (comma-separated)", list)
      .option("--concurrency <n>", "accounts scanned at once", int("--concurrency"), 8)
      .option(
        "--per-account-concurrency <n>",
        "IAM calls in flight at once within one account (its live confirmations; default 4)",
        int("--per-account-concurrency"),
      )
      .option("--config <file>", "JSON config: checks, severities, exemptions, owner tag")
      .addOption(formatOption())
      .addOption(outputOption())
      .option("--out-dir <dir>", "write report.json, the CSV files, report.html and manifest.json here")
      .option("--s3-bucket <bucket>", "store the report files in this bucket (and read the previous scan from it)")
      .option("--s3-prefix <prefix>", `key prefix in the bucket (default "${DEFAULT_S3_PREFIX}")`)
      .option(
        "--security-hub",
        "import findings into Security Hub in each member account, archiving resolved ones",
        false,
      )
      .option("--sns-topic-arn <arn>", "publish the scan digest to this SNS topic")
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
      .option("--no-color", "no colors in the table (NO_COLOR is honoured too; FORCE_COLOR forces them)"),
  ).action(async (o) => {
    result.logLevel = levelOf(o);
    const { runScanCommand } = await import("./scan");
    const { exitCode } = await runScanCommand(
      {
        ...o,
        format: o.format as Format | undefined,
        failOn: o.failOn as FailOn,
        logLevel: result.logLevel,
        quiet: o.quiet === true,
        color: o.color !== false,
      },
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
    )
    .option(
      "--scanning-account <id>",
      "for --format asff: the account orgmfa scans from (default: the one the report records)",
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
      result.code = await runReportCommand(
        file,
        { ...o, format: o.format as Format | undefined, color: o.color !== false },
        io,
      );
    });

  cmd
    .command("checks")
    .description("List every check: id, default severity, related controls, what it needs.")
    .addOption(new Option("--format <format>", "table or json").argParser(format(["table", "json"])).default("table"))
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
    .option("--profile <name>", "AWS named profile for the scanning identity")
    .option("--region <region>", "AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / profile)")
    .option("--org-role-arn <arn>", "role assumed for Organizations discovery (the management account's audit role)")
    .addOption(new Option("--format <format>", "table or json").argParser(format(["table", "json"])).default("table"))
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
      .option("--concurrency <n>", "accounts checked at once", int("--concurrency"), 8)
      .option("--security-hub", "also check that Security Hub is enabled and readable in every account", false)
      .option("--s3-bucket <bucket>", "check that the report bucket can be reached")
      .option("--s3-prefix <prefix>", `key prefix in the bucket (default "${DEFAULT_S3_PREFIX}")`)
      .option("--sns-topic-arn <arn>", "check that the digest topic exists")
      .addOption(new Option("--format <format>", "table or json").argParser(format(["table", "json"])).default("table"))
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
      .option("--concurrency <n>", "accounts scanned and reconciled at once", int("--concurrency"), 8)
      .option("--apply", "make the changes (without it nothing changes: the plan is printed)", false)
      .option(
        "--enforcer-role-name <name>",
        "the member enforcer role (default: the config's quarantine.roleName, else OrgMfaQuarantineRole)",
      )
      .addOption(new Option("--format <format>", "table or json").argParser(format(["table", "json"])).default("table"))
      .option("--no-color", "no colors in the table"),
  ).action(async (o) => {
    result.logLevel = levelOf(o);
    const { runEnforceCommand } = await import("./enforce");
    result.code = await runEnforceCommand({ ...o, logLevel: levelOf(o), color: o.color !== false }, io);
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
    if (e instanceof Error && USAGE_ERRORS.has(e.name)) {
      err.write(`orgmfa: ${e.message}\n`);
      return EXIT.USAGE;
    }
    const error = e as Error;
    err.write(`orgmfa: ${error?.message ?? String(e)}\n`);
    if (result.logLevel === "debug") err.write(`${error?.stack}\n`);
    else err.write("(run again with --debug for details)\n");
    return EXIT.ERROR;
  }
}
