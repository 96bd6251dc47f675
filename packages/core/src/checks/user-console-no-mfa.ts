import { hasMfa, type Rule, userEvidence } from "./rule";

/** USER_CONSOLE_NO_MFA: an IAM user with a console password and no enabled MFA device (IAM.5). */
export const userConsoleNoMfa: Rule = {
  checkId: "USER_CONSOLE_NO_MFA",
  evaluate({ outcome }) {
    if (outcome.kind !== "facts") return [];
    return outcome.users
      .filter((u) => u.consoleAccess && !hasMfa(u))
      .map((u) => ({
        checkId: "USER_CONSOLE_NO_MFA" as const,
        principalArn: u.arn,
        userName: u.userName,
        title: `IAM user ${u.userName} can sign in to the console without MFA`,
        evidence: userEvidence(u),
      }));
  },
};
