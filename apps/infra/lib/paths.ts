import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DeploymentConfig } from "./config";

/** The repository root (the CDK app bundles functions from it). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The member template: read, never copied (the single source of the member-side policy). */
export const MEMBER_TEMPLATE = fileURLToPath(new URL("../../../stacksets/member-audit-role.yaml", import.meta.url));

export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/** The member template's parameters for this deployment. */
export function memberParameters(c: DeploymentConfig, organizationsRead: boolean): Record<string, string> {
  return {
    ScannerAccountId: c.scannerAccountId,
    ScannerRoleName: c.scannerRoleName,
    DiscoverRoleName: c.discoverRoleName,
    OrganizationId: c.organizationId,
    AuditRoleName: c.auditRoleName,
    EnableOrganizationsRead: String(organizationsRead),
  };
}
