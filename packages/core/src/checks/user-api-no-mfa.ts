import { hasMfa, type Rule, userEvidence } from "./rule";

/**
 * USER_API_NO_MFA: an IAM user without a console password, with at least one active access key
 * and no enabled MFA device (IAM.19). Console users are USER_CONSOLE_NO_MFA's, never both.
 */
export const userApiNoMfa: Rule = {
  checkId: "USER_API_NO_MFA",
  evaluate({ outcome }) {
    if (outcome.kind !== "facts") return [];
    return outcome.users
      .filter((u) => !u.consoleAccess && u.activeAccessKeys > 0 && !hasMfa(u))
      .map((u) => ({
        checkId: "USER_API_NO_MFA" as const,
        principalArn: u.arn,
        userName: u.userName,
        title: `IAM user ${u.userName} has ${u.activeAccessKeys} active access key${u.activeAccessKeys === 1 ? "" : "s"} and no MFA`,
        evidence: userEvidence(u),
      }));
  },
};
