import { rootIsJudged } from "../root";
import { rootEvidence } from "./root-evidence";
import { label, type Rule } from "./rule";

/** ROOT_VIRTUAL_MFA: root has credentials and at least one virtual MFA device (Security Hub IAM.6). */
export const rootVirtualMfa: Rule = {
  checkId: "ROOT_VIRTUAL_MFA",
  evaluate({ outcome, target, policy }) {
    if (outcome.kind !== "facts") return [];
    const root = outcome.root;
    const { judged, failClosed } = rootIsJudged(root);
    if (!judged || root.mfaEnabled === false) return [];
    if (!root.virtualDevices.some((d) => d.type === "VIRTUAL")) return [];
    return [
      {
        checkId: "ROOT_VIRTUAL_MFA",
        principalArn: root.arn,
        userName: null,
        title: `Root user of ${label(target)} uses a virtual MFA device instead of a hardware or FIDO device`,
        evidence: rootEvidence(root, policy, failClosed),
      },
    ];
  },
};
