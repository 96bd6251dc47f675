import { ConfigError, EXIT, type FailOn } from "@orgmfa/core";
import { EmulatorNotFoundError } from "@orgmfa/emulator";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { runDemo } from "./demo";
import { UsageError } from "./errors";
import { FORMATS, type Format } from "./render";
import { runReportCommand } from "./report";
import { DEFAULT_S3_PREFIX, runScanCommand } from "./scan";
import { VERSION } from "./version";

const list = (v: string): string[] =>
  v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const int = (flag: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${flag} takes a whole number, not "${v}"`);
  return Number(v);
};

interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Builds the `orgmfa` program; every action sets `result.code`. */
export function program(io: Io, result: { code: number }): Command {
  const cmd = new Command("orgmfa")
    .description("Find every IAM user and root user without MFA across an AWS Organization.")
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError("(run orgmfa --help for usage)");

  cmd
    .command("scan")
    .description("Scan every account of the organization and report IAM users and root users without MFA.")
    .option("--profile <name>", "AWS named profile for the scanning identity")
    .option("--region <region>", "AWS region (default: AWS_REGION / AWS_DEFAULT_REGION / profile)")
    .option("--role-name <name>", "audit role assumed in every member account", "OrgMfaAuditRole")
    .option("--external-id <id>", "external id for the audit role's AssumeRole")
    .option("--org-role-arn <arn>", "role assumed for Organizations discovery (the management account's audit role)")
    .option("--accounts <ids>", "only these account ids (comma-separated)", list)
    .option("--exclude-accounts <ids>", "skip these account ids (comma-separated)", list)
    .option("--ou <ids>", "only accounts under these OUs, nested OUs included (comma-separated)", list)
    .option("--exclude-ou <ids>", "skip accounts under these OUs (comma-separated)", list)
    .option("--concurrency <n>", "accounts scanned at once", int("--concurrency"), 8)
    .option("--config <file>", "JSON config: checks, severities, exemptions, owner tag")
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("table"))
    .option("--output <file>", "write the format to this file ('-' for stdout)")
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
      new Option("--fail-on <severity>", "exit 3 when an open finding is at or above")
        .choices(["CRITICAL", "HIGH", "MEDIUM", "LOW", "none"])
        .default("HIGH"),
    )
    .option("--allow-partial", "do not exit 4 when some in-scope account could not be audited", false)
    .option("--quiet", "no progress or warnings on stderr", false)
    .option("--no-color", "no colors in the table")
    .action(async (o) => {
      const { exitCode } = await runScanCommand(
        {
          ...o,
          format: o.format as Format,
          failOn: o.failOn as FailOn,
          color: o.color !== false && !process.env.NO_COLOR,
        },
        io,
      );
      result.code = exitCode;
    });

  cmd
    .command("report")
    .description("Re-render a saved report.json in another format (no AWS calls).")
    .argument("<report.json>", "a report written by orgmfa scan (--out-dir, --format json or S3)")
    .addOption(new Option("--format <format>", "output format").choices(FORMATS).default("html"))
    .option("--output <file>", "write to this file ('-' for stdout)")
    .option("--region <region>", "for --format asff: the Security Hub region")
    .option("--scanning-account <id>", "for --format asff: the account orgmfa scans from")
    .option("--no-color", "no colors in the table")
    .action((file: string, o) => {
      result.code = runReportCommand(
        file,
        { ...o, format: o.format as Format, color: o.color !== false && !process.env.NO_COLOR },
        io.stdout,
      );
    });

  cmd
    .command("demo")
    .description("Start the moto AWS emulator, seed an emulated organization, and scan it with the real code path.")
    .option("--out-dir <dir>", "where the report files go", "orgmfa-demo")
    .option("--keep-running", "leave the emulator running and print how to scan it again", false)
    .action(async (o) => {
      result.code = await runDemo({ outDir: o.outDir, keepRunning: o.keepRunning }, io);
    });
  return cmd;
}

/** Runs the CLI and returns its exit code. Never lets a stack trace be the only output. */
export async function main(
  argv: string[],
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const result = { code: EXIT.OK as number };
  try {
    await program(io, result).parseAsync(argv);
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help")
        return EXIT.OK;
      return EXIT.USAGE;
    }
    if (e instanceof UsageError || e instanceof ConfigError) {
      io.stderr.write(`orgmfa: ${e.message}\n`);
      return EXIT.USAGE;
    }
    if (e instanceof EmulatorNotFoundError) {
      io.stderr.write(`orgmfa: ${e.message}\n`);
      return EXIT.USAGE;
    }
    const err = e as Error;
    io.stderr.write(`orgmfa: ${err.name ?? "Error"}: ${err.message}\n`);
    if (process.env.ORGMFA_DEBUG) io.stderr.write(`${err.stack}\n`);
    return EXIT.ERROR;
  }
}
