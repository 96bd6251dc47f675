import {
  GetAccountSummaryCommand,
  GetLoginProfileCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  ListUsersCommand,
  ListVirtualMFADevicesCommand,
  NoSuchEntityException,
} from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach } from "vitest";

// The emulator always returns a fresh report with no root row; staleness, root rows and IAM's
// failure modes need a mocked IAM client with AWS's exact response and error shapes.
export const ACCOUNT = "111122223333";
export const arn = (u: string) => `arn:aws:iam::${ACCOUNT}:user/${u}`;
export const HEADER =
  "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_2_active,cert_1_active,cert_2_active";
export const row = (u: string, created: string, pw: string, mfa: boolean, key: boolean) =>
  `${u},${u === "<root_account>" ? `arn:aws:iam::${ACCOUNT}:root` : arn(u)},${created},${pw},N/A,N/A,N/A,${mfa},${key},false,false,false`;
export const T0 = "2026-11-21T08:00:00+00:00";
export const meta = { $metadata: {} };
export const iam = new IAMClient({
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" },
  maxAttempts: 1,
});
export const mock = mockClient(IAMClient);
export const opts = {
  accountId: ACCOUNT,
  partition: "aws",
  firstPollMs: 1,
  maxPollMs: 2,
  reportWaitMs: 50,
  sleep: async () => {},
};

export function liveUsers(...users: [string, string][]) {
  mock.on(ListUsersCommand).resolves({
    Users: users.map(([u, c]) => ({ UserName: u, Arn: arn(u), UserId: u, Path: "/", CreateDate: new Date(c) })),
  });
}

/** The mocks every collector test starts from: a root with a password and MFA, no devices, no keys. */
export function useCollectorMocks(): void {
  beforeEach(() => {
    mock.reset();
    mock.on(GetAccountSummaryCommand).resolves({
      SummaryMap: {
        AccountPasswordPresent: 1,
        AccountAccessKeysPresent: 0,
        AccountSigningCertificatesPresent: 0,
        AccountMFAEnabled: 1,
      },
    });
    mock.on(ListVirtualMFADevicesCommand).resolves({ VirtualMFADevices: [] });
    mock.on(ListMFADevicesCommand).resolves({ MFADevices: [] });
    mock
      .on(GetLoginProfileCommand)
      .rejects(new NoSuchEntityException({ message: "Login Profile for User x cannot be found.", ...meta }));
    mock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [] });
  });
  afterEach(() => mock.reset());
}
