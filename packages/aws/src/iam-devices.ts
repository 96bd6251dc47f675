import {
  GetMFADeviceCommand,
  type IAMClient,
  paginateListMFADevices,
  paginateListVirtualMFADevices,
} from "@aws-sdk/client-iam";
import { classifyDevice, type MfaDevice, toDevice } from "@orgmfa/core";
import { AccountJobError } from "./errors";

// The collector's device reads: the account's assigned virtual devices (step 3 of docs/checks.md), a
// user's every device (ListMFADevices), and a FIDO device's certifications (GetMFADevice).

/** Step 3: enabled virtual devices by the ARN of the user they are assigned to (root included). */
export async function assignedVirtualDevices(iam: IAMClient, signal?: AbortSignal): Promise<Map<string, MfaDevice[]>> {
  const byArn = new Map<string, MfaDevice[]>();
  for await (const page of paginateListVirtualMFADevices({ client: iam }, { AssignmentStatus: "Assigned" })) {
    if (signal?.aborted) throw new AccountJobError("TIMEOUT", "AccountTimeLimit", "the account's time limit ran out");
    for (const d of page.VirtualMFADevices ?? []) {
      const arn = d.User?.Arn;
      if (!arn || !d.SerialNumber || !d.EnableDate) continue; // created but never enabled: does not count
      const list = byArn.get(arn) ?? [];
      list.push(toDevice(d.SerialNumber, d.EnableDate));
      byArn.set(arn, list);
    }
  }
  return byArn;
}

export async function liveDevices(iam: IAMClient, userName: string, certifications = false): Promise<MfaDevice[]> {
  const listed: { serial: string; enabled: Date }[] = [];
  for await (const page of paginateListMFADevices({ client: iam }, { UserName: userName })) {
    for (const d of page.MFADevices ?? [])
      if (d.SerialNumber && d.EnableDate) listed.push({ serial: d.SerialNumber, enabled: d.EnableDate });
  }
  return Promise.all(
    listed.map(async ({ serial, enabled }) =>
      toDevice(
        serial,
        enabled,
        certifications && classifyDevice(serial) === "FIDO"
          ? await fidoCertifications(iam, userName, serial)
          : undefined,
      ),
    ),
  );
}

/**
 * A FIDO device's certifications (GetMFADevice: FIPS 140 and FIDO levels from the FIDO Metadata
 * Service; `{}` when it has none — a passkey); undefined when they cannot be read (an audit role
 * deployed before iam:GetMFADevice was in it): the device's class is then FIDO, never a guess.
 */
async function fidoCertifications(
  iam: IAMClient,
  userName: string,
  serialNumber: string,
): Promise<Record<string, string> | undefined> {
  try {
    const r = await iam.send(new GetMFADeviceCommand({ UserName: userName, SerialNumber: serialNumber }));
    return { ...(r.Certifications ?? {}) };
  } catch {
    return undefined;
  }
}
