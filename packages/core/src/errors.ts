import { EXIT } from "./exit-code";

/**
 * What kind of failure an error is. It decides how orgmfa ends (the exit code of the CLI) and how the
 * error is shown: the message of a `usage`, `input` or `environment` error is the whole story for the
 * person (no trace); the others are failures of a run.
 */
export type ErrorKind =
  /** A flag, a command or a combination of them that cannot work. */
  | "usage"
  /** A file the person gave (config, report) that is not what it must be. */
  | "input"
  /** Something of this machine or account the command needs is missing (the emulator, a role, a region). */
  | "environment"
  /** AWS refused or failed in a way that ends the run (the organization could not be listed, …). */
  | "aws"
  /** A delivery (S3, Security Hub, SNS) did not land. */
  | "delivery"
  /** One account's job failed; it becomes that account's ledger entry, never the run's end. */
  | "account";

/** The CLI's exit code for each kind (docs/usage.md, "Exit codes"). */
export const EXIT_CODE_OF: Readonly<Record<ErrorKind, number>> = {
  usage: EXIT.USAGE,
  input: EXIT.USAGE,
  environment: EXIT.USAGE,
  aws: EXIT.ERROR,
  delivery: EXIT.ERROR,
  account: EXIT.ERROR,
};

/**
 * The base of every orgmfa error: its kind (and so its exit code) travels with it, so no caller
 * classifies errors by their name. `name` is the class's own; the cause, when given, is kept.
 */
export abstract class OrgMfaError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  /** The CLI's exit code for this error. */
  get exitCode(): number {
    return EXIT_CODE_OF[this.kind];
  }
  /** Whether the message is the whole story for a person (no trace, no "--debug" hint). */
  get isPersonFacing(): boolean {
    return this.exitCode === EXIT.USAGE;
  }
}
