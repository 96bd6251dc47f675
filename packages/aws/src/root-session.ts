import {
  GetLoginProfileCommand,
  type IAMClient,
  paginateListAccessKeys,
  paginateListMFADevices,
  paginateListSigningCertificates,
} from "@aws-sdk/client-iam";
import { type MfaDevice, type RootFacts, rootArn, rootFromSession, toDevice } from "@orgmfa/core";
import { isNoSuchEntity } from "./errors";

/**
 * Root as an sts:AssumeRoot session limited to `IAMAuditRootUserCredentials` reads it. The task
 * policy allows (on `arn:…:iam::*:root` only) GetLoginProfile, ListAccessKeys,
 * ListSigningCertificates, ListMFADevices, GetUser, GetAccessKeyLastUsed, and GetAccountSummary; it
 * denies everything else — ListVirtualMFADevices and GetMFADevice included, so a root FIDO device's
 * certifications cannot be read and its class stays `FIDO`. Each call names no user: in a root
 * session that is the member account's root (IAM User Guide, "Perform a privileged task on an AWS
 * Organizations member account"). Four reads, in one round trip; nothing is ever changed.
 */
export async function readRootThroughSession(
  iam: IAMClient,
  o: { accountId: string; partition: string; signal?: AbortSignal },
): Promise<RootFacts> {
  const opts = { abortSignal: o.signal };
  const [password, keys, certs, devices] = await Promise.all([
    iam.send(new GetLoginProfileCommand({}), opts).then(
      () => true,
      (e: unknown) => {
        if (isNoSuchEntity(e)) return false; // no login profile: no password
        throw e;
      },
    ),
    (async () => {
      let n = 0;
      for await (const page of paginateListAccessKeys({ client: iam }, {}))
        for (const k of page.AccessKeyMetadata ?? []) if (k.Status === "Active") n++;
      return n;
    })(),
    (async () => {
      let n = 0;
      for await (const page of paginateListSigningCertificates({ client: iam }, {}))
        for (const c of page.Certificates ?? []) if (c.Status === "Active") n++;
      return n;
    })(),
    (async () => {
      const list: MfaDevice[] = [];
      for await (const page of paginateListMFADevices({ client: iam }, {}))
        for (const d of page.MFADevices ?? [])
          if (d.SerialNumber && d.EnableDate) list.push(toDevice(d.SerialNumber, d.EnableDate));
      return list;
    })(),
  ]);
  return rootFromSession({
    arn: rootArn(o.partition, o.accountId),
    password,
    activeAccessKeys: keys,
    activeSigningCertificates: certs,
    devices,
  });
}
