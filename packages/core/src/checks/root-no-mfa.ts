import { rootIsJudged } from "../root";
import { rootEvidence } from "./root-evidence";
import { label, type Rule } from "./rule";

/** ROOT_NO_MFA: root has credentials and no MFA device (Security Hub IAM.9). */
export const rootNoMfa: Rule = {
  checkId: "ROOT_NO_MFA",
  evaluate({ outcome, target, policy }) {
    if (outcome.kind !== "facts") return [];
    const root = outcome.root;
    const { judged, failClosed } = rootIsJudged(root);
    if (!judged || root.mfaEnabled !== false) return [];
    return [
      {
        checkId: "ROOT_NO_MFA",
        principalArn: root.arn,
        userName: null,
        title: `Root user of ${label(target)} has credentials and no MFA`,
        evidence: rootEvidence(root, policy, failClosed),
      },
    ];
  },
};
