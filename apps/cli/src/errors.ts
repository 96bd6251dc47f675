import { OrgMfaError } from "@orgmfa/core";

/**
 * A usage or configuration error: exit 2, with a message that names the bad flag or field and says
 * what to do (main.ts prints it as `orgmfa: <message>`, without a stack trace). The AWS error it
 * explains, if any, is kept as `cause` (`--debug` does not print it: the message is the whole story).
 */
export class UsageError extends OrgMfaError {
  readonly kind = "usage";
}
