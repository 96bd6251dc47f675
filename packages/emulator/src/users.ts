import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  DeactivateMFADeviceCommand,
  EnableMFADeviceCommand,
  type IAMClient,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import type { UserSpec } from "./org-spec";
import type { Emulator } from "./server";

const code = (n: number) => String(100000 + n).slice(-6);

/** A user enrols a virtual MFA device (authenticator app) named `deviceName`, as the console does; its serial. */
export async function enrolVirtualMfa(iam: IAMClient, userName: string, deviceName: string): Promise<string> {
  const v = await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: deviceName }));
  const serial = v.VirtualMFADevice?.SerialNumber ?? "";
  await iam.send(
    new EnableMFADeviceCommand({
      UserName: userName,
      SerialNumber: serial,
      AuthenticationCode1: code(1),
      AuthenticationCode2: code(2),
    }),
  );
  return serial;
}

/**
 * Creates one IAM user exactly as its spec says, through the API (the reference `Emulator.createUsers` is
 * checked against). A FIDO security key or passkey cannot be enabled through the API (IAM registers
 * them only in the console): `console` stands for that console registration (`Emulator.registerFidoDevice`).
 */
export async function createUser(
  iam: IAMClient,
  accountId: string,
  u: UserSpec,
  console?: Pick<Emulator, "registerFidoDevice">,
): Promise<void> {
  await iam.send(new CreateUserCommand({ UserName: u.name }));
  if (u.console) await iam.send(new CreateLoginProfileCommand({ UserName: u.name, Password: "Emulated-Passw0rd!" }));
  for (let i = 0; i < (u.activeKeys ?? 0) + (u.inactiveKeys ?? 0); i++) {
    const k = await iam.send(new CreateAccessKeyCommand({ UserName: u.name }));
    if (i >= (u.activeKeys ?? 0)) {
      await iam.send(
        new UpdateAccessKeyCommand({ UserName: u.name, AccessKeyId: k.AccessKey?.AccessKeyId, Status: "Inactive" }),
      );
    }
  }
  const enable = (serial: string) =>
    iam.send(
      new EnableMFADeviceCommand({
        UserName: u.name,
        SerialNumber: serial,
        AuthenticationCode1: code(1),
        AuthenticationCode2: code(2),
      }),
    );
  for (const [i, kind] of (u.devices ?? []).entries()) {
    if (kind === "virtual") await enrolVirtualMfa(iam, u.name, `${u.name}-app${i}`);
    else if (kind === "hardware") {
      await enable(`GAHT${accountId.slice(-4)}${String(i).padStart(4, "0")}`);
    } else {
      if (!console)
        throw new Error(`createUser: ${u.name}'s FIDO device needs a console registration (pass the emulator)`);
      await console.registerFidoDevice(
        accountId,
        u.name,
        `arn:aws:iam::${accountId}:u2f/user/${u.name}/security-key-${i}`,
      );
    }
  }
  if (u.unenabledVirtual)
    await iam.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: `${u.name}-never-enabled` }));
  if (u.deactivated) {
    const serial = await enrolVirtualMfa(iam, u.name, `${u.name}-old-phone`);
    await iam.send(new DeactivateMFADeviceCommand({ UserName: u.name, SerialNumber: serial }));
  }
}
