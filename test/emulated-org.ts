import {
  DEMO_ORG,
  DeliveryReader,
  type Emulator,
  type SeededDelivery,
  type SeededOrg,
  scannerCredentials,
  seedDelivery,
  seedOrganization,
  startEmulator,
} from "@orgmfa/emulator";
import type { AwsCredentialIdentity } from "@smithy/types";

/** The demo organization on a fresh emulator, its delivery side seeded, IAM enforcement on. */
export interface EmulatedOrg {
  emu: Emulator;
  org: SeededOrg;
  delivery: SeededDelivery;
  reader: DeliveryReader;
  /** The scanner role's credentials: what `orgmfa scan` runs as in a real deployment. */
  creds: AwsCredentialIdentity;
  /** The scanner role's environment (AWS_ENDPOINT_URL, AWS_REGION and its credentials). */
  env: Record<string, string | undefined>;
  /** Reads what landed as an administrator, with enforcement off for the reader's own calls. */
  asAdmin<T>(read: () => Promise<T>): Promise<T>;
}

export async function startEmulatedOrg(): Promise<EmulatedOrg> {
  const emu = await startEmulator();
  const org = await seedOrganization(emu, DEMO_ORG);
  const delivery = await seedDelivery(emu.endpoint, org);
  const creds = await scannerCredentials(emu.endpoint, org.scannerRoleArn);
  await emu.setIamEnforcement(true);
  return {
    emu,
    org,
    delivery,
    reader: new DeliveryReader(emu.endpoint, delivery, org),
    creds,
    env: {
      AWS_ENDPOINT_URL: emu.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      AWS_SESSION_TOKEN: creds.sessionToken,
    },
    asAdmin: (read) => emu.unenforced(read),
  };
}
