import type { OrgSpec } from "./org-spec";

/** The emulated organization of `orgmfa demo`: every case of docs/checks.md. */
export const DEMO_ORG: OrgSpec = {
  stackSetOus: ["Security", "Workloads/Prod", "Workloads/Dev", "Sandbox"],
  scannerAccount: "security-tooling",
  managementRoot: { password: true, accessKeys: false, mfa: true },
  rootAudit: true,
  managementUsers: [{ name: "billing-admin", console: true, devices: ["fido"] }],
  accounts: [
    {
      name: "security-tooling",
      ou: "Security",
      owner: "secops@example.com",
      root: { password: false, accessKeys: false, mfa: false },
      users: [{ name: "secops-admin", console: true, devices: ["fido"] }],
    },
    {
      name: "prod-payments",
      ou: "Workloads/Prod",
      owner: "payments-team@example.com",
      root: { password: true, accessKeys: false, mfa: false },
      users: [
        { name: "alice", console: true },
        { name: "bob", console: true, devices: ["virtual"] },
        { name: "carol", console: true, devices: ["hardware"] },
        { name: "dave", console: true, devices: ["fido"] },
        { name: "erin", console: true, devices: ["virtual", "hardware"] },
        { name: "ci-deploy", activeKeys: 1 },
      ],
    },
    {
      name: "prod-web",
      ou: "Workloads/Prod",
      owner: "web-team@example.com",
      root: { password: false, accessKeys: false, mfa: false },
      users: [
        { name: "frank", console: true, unenabledVirtual: true },
        { name: "grace", console: true, deactivated: true },
        { name: "old-batch", inactiveKeys: 2 },
        { name: "svc-readonly" },
        { name: "rootops", console: true, devices: ["virtual"] },
      ],
    },
    {
      name: "dev-platform",
      ou: "Workloads/Dev",
      owner: "platform-team@example.com",
      root: { password: false, accessKeys: false, mfa: false },
      users: [
        { name: "heidi", console: true },
        { name: "ivan", activeKeys: 2 },
      ],
    },
    {
      name: "sandbox-ml",
      ou: "Sandbox",
      root: { password: false, accessKeys: true, mfa: true },
      users: [{ name: "mallory", console: true, activeKeys: 1 }],
    },
    { name: "legacy-unmanaged", ou: "Legacy", users: [{ name: "judy", console: true }] },
    { name: "retired-2019", ou: "Sandbox", closed: true },
  ],
};
