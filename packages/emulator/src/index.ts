export { accountAdminCredentials, roleCredentials, scannerCredentials } from "./credentials";
export {
  DeliveryReader,
  type SeedDeliveryOptions,
  type SeededDelivery,
  type SnsEnvelope,
  seedDelivery,
} from "./delivery";
export { DEMO_ORG } from "./demo-org";
export { MEMBER_TEMPLATE_PATH } from "./member-stacks";
export {
  EmulatorNotFoundError,
  EmulatorStartError,
  EmulatorVersionError,
  findMoto,
  freePort,
  MOTO_INSTALL_HINT,
  MOTO_VERSION,
} from "./moto";
export {
  type AccountSpec,
  ADMIN,
  AUDIT_ROLE_NAME,
  type DeviceKind,
  DISCOVER_ROLE_NAME,
  ENFORCER_ROLE_NAME,
  FORWARDING_DLQ_NAME,
  IAM_EVENT_BUS_NAME,
  IDENTITY_CENTER_ROLE_PATH,
  MEMBER_ENFORCER_ROLE_NAME,
  OPERATOR_ROLE_NAME,
  type OrgSpec,
  PUBLISH_ROLE_NAME,
  REGION,
  SCANNER_ASSUME_POLICY_NAME,
  SCANNER_ROLE_NAME,
  type SeededOrg,
  type UserSpec,
} from "./org-spec";
export { hasPolicyEngine } from "./policy";
export { seedOrganization } from "./seed";
export { type EmulatedRootState, type Emulator, type StartEmulatorOptions, startEmulator } from "./server";
export { createUser, enrolVirtualMfa } from "./users";
