import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  DescribeCreateAccountStatusCommand,
  ListRootsCommand,
  MoveAccountCommand,
  TagResourceCommand,
} from "@aws-sdk/client-organizations";
import { createOperatorRole, createScannerRole } from "./central-roles";
import { actAs, clients } from "./credentials";
import { DEMO_ORG } from "./demo-org";
import { deployMemberStacks } from "./member-stacks";
import { AUDIT_ROLE_NAME, type OrgSpec, SCANNER_ROLE_NAME, type SeededOrg } from "./org-spec";
import type { Emulator } from "./server";

/**
 * Seeds an emulated organization: OUs, accounts, the member template deployed by a real
 * SERVICE_MANAGED StackSet to `stackSetOus` and as a normal stack (EnableOrganizationsRead=true) in
 * the management account, the scanner role in the security-tooling account, users, root states.
 */
export async function seedOrganization(
  emulator: Pick<Emulator, "endpoint" | "setRootState" | "createUsers">,
  spec: OrgSpec = DEMO_ORG,
): Promise<SeededOrg> {
  const { orgs, cfn, iam } = clients(emulator.endpoint);
  const org = await orgs.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
  const organizationId = org.Organization?.Id ?? "";
  const managementAccountId = org.Organization?.MasterAccountId ?? "";
  const rootId = (await orgs.send(new ListRootsCommand({}))).Roots?.[0]?.Id ?? "";

  const ous: Record<string, string> = { "": rootId };
  const ensureOu = async (path: string): Promise<string> => {
    if (ous[path]) return ous[path];
    const cut = path.lastIndexOf("/");
    const parent = await ensureOu(cut < 0 ? "" : path.slice(0, cut));
    const r = await orgs.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: path.slice(cut + 1) }));
    ous[path] = r.OrganizationalUnit?.Id ?? "";
    return ous[path];
  };
  for (const p of [...spec.accounts.map((a) => a.ou), ...spec.stackSetOus]) if (p) await ensureOu(p);

  const accounts: Record<string, string> = { management: managementAccountId };
  for (const a of spec.accounts) {
    const created = await orgs.send(
      new CreateAccountCommand({
        AccountName: a.name,
        Email: `${a.name.replace(/[^\w-]/g, "") || "account"}-${Object.keys(accounts).length}@example.com`,
      }),
    );
    const status = await orgs.send(
      new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: created.CreateAccountStatus?.Id }),
    );
    const id = status.CreateAccountStatus?.AccountId ?? "";
    accounts[a.name] = id;
    if (a.ou)
      await orgs.send(
        new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: await ensureOu(a.ou) }),
      );
    if (a.owner) await orgs.send(new TagResourceCommand({ ResourceId: id, Tags: [{ Key: "owner", Value: a.owner }] }));
    if (a.root) emulator.setRootState(id, a.root);
  }
  if (spec.managementRoot) emulator.setRootState(managementAccountId, spec.managementRoot);

  const scannerAccountId = accounts[spec.scannerAccount] ?? managementAccountId;
  await deployMemberStacks(cfn, spec, { scannerAccountId, organizationId, ous });

  // The central roles in the security-tooling account.
  const scannerIam = scannerAccountId === managementAccountId ? iam : await actAs(emulator.endpoint, scannerAccountId);
  await createScannerRole(scannerIam, spec, scannerAccountId, organizationId);
  const operatorRoleArn = spec.operatorRoleName
    ? await createOperatorRole(scannerIam, spec.operatorRoleName, scannerAccountId, organizationId)
    : undefined;

  // Users: one request per account, through the backend calls the IAM API makes (createUser's state;
  // 800 users one API call at a time took ~20 s of the emulator's time).
  await emulator.createUsers(managementAccountId, spec.managementUsers ?? []);
  for (const a of spec.accounts) await emulator.createUsers(accounts[a.name] ?? "", a.users ?? []);
  for (const a of spec.accounts)
    if (a.closed) await orgs.send(new CloseAccountCommand({ AccountId: accounts[a.name] }));

  return {
    organizationId,
    managementAccountId,
    scannerAccountId,
    scannerRoleArn: `arn:aws:iam::${scannerAccountId}:role/${SCANNER_ROLE_NAME}`,
    orgRoleArn: `arn:aws:iam::${managementAccountId}:role/${AUDIT_ROLE_NAME}`,
    ...(operatorRoleArn ? { operatorRoleArn } : {}),
    accounts,
    ous,
  };
}
