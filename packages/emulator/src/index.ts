export { accountAdminCredentials, roleCredentials, scannerCredentials } from "./credentials";
export * from "./delivery";
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
export * from "./org-spec";
export { hasPolicyEngine } from "./policy";
export { seedOrganization } from "./seed";
export * from "./server";
export { createUser, enrolVirtualMfa } from "./users";
