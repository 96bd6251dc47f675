import { randomBytes } from "node:crypto";
import type net from "node:net";
import { motoControl } from "./control";
import { type GatewayState, startGateway } from "./gateway";
import { EmulatorNotFoundError, findMoto, startMoto } from "./moto";
import type { EmulatedRootState, UserSpec } from "./org-spec";

// The emulator: moto's server (moto.ts: the Python process and its readiness) behind a loopback gateway
// (gateway.ts: what AWS does that moto does not, with policy.ts's engine), driven through the control
// calls (control.ts). Every patch of moto itself is in python/orgmfa_moto.

export type { EmulatedRootState };

export interface Emulator {
  /** The endpoint clients use (the gateway in front of moto). */
  endpoint: string;
  /** moto itself, without the gateway. */
  motoEndpoint: string;
  /** Turns moto's IAM policy enforcement on or off. */
  setIamEnforcement(on: boolean): Promise<void>;
  /**
   * Runs `f` as the emulator's administrator would see it: enforcement off while it runs (a test
   * reading back what landed), on again after, however `f` ends.
   */
  unenforced<T>(f: () => Promise<T>): Promise<T>;
  /** Declares an account's root credential state (moto has no root credentials). */
  setRootState(accountId: string, state: EmulatedRootState): void;
  /**
   * Declares an account's credential report older than it is (as another tool would leave one
   * generated hours ago): its GeneratedTime is moved back by `ageMs`. @default 0
   */
  setReportAge(accountId: string, ageMs: number): void;
  /** IAM organization features (e.g. "RootCredentialsManagement") ListOrganizationsFeatures reports. */
  setOrganizationFeatures(list: string[]): void;
  /**
   * Whether the organization has trusted access for IAM (Organizations EnableAWSServiceAccess for
   * iam.amazonaws.com). Without it, IAM ListOrganizationsFeatures answers ServiceAccessNotEnabledException.
   * @default true (the emulated organization is one where centralized root access could be enabled)
   */
  setIamTrustedAccess(enabled: boolean): void;
  /**
   * How long IAM takes to generate a credential report: for this long after a new generation starts,
   * GetCredentialReport answers ReportInProgress (404) and GenerateCredentialReport INPROGRESS.
   * @default 100
   */
  setReportGenerationMs(ms: number): void;
  /**
   * Accounts whose Security Hub is not enabled (in any region): GetFindings and BatchImportFindings
   * there answer InvalidAccessException. Replaces the previous list; [] enables every hub again.
   */
  setSecurityHubDisabled(accountIds: string[]): Promise<void>;
  /**
   * Creates IAM users in an account in one request (seeding), through the backend calls the IAM API
   * makes: the same state `createUser` leaves, without a round trip per call.
   */
  createUsers(accountId: string, users: UserSpec[]): Promise<void>;
  /**
   * Registers a FIDO security key or passkey (serial `arn:…:u2f/…`) for an existing user, as the console
   * does: IAM's EnableMFADevice API refuses FIDO serials.
   */
  registerFidoDevice(
    accountId: string,
    userName: string,
    serialNumber: string,
    certifications?: Record<string, string>,
  ): Promise<void>;
  /** Clears all emulated state. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartEmulatorOptions {
  /** @default 30000 */
  startTimeoutMs?: number;
}

/**
 * Starts moto on a free loopback port, with the gateway in front of it, and waits until it answers.
 *
 * @throws EmulatorNotFoundError when moto is not installed (the message says how to install it).
 */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<Emulator> {
  const moto = findMoto();
  if (!moto) throw new EmulatorNotFoundError();
  // The gateway marks the requests it has judged (AssumeRole) with a secret only it and moto know.
  const secret = randomBytes(24).toString("hex");
  const motoProcess = await startMoto(moto, secret, options.startTimeoutMs ?? 30_000);
  const motoEndpoint = motoProcess.endpoint;
  const state: GatewayState = {
    roots: new Map(),
    features: [],
    iamTrustedAccess: true,
    reportAges: new Map(),
    generated: new Map(),
    reportGenerationMs: 100,
    keyAccount: new Map(),
    rootSessions: new Map(),
  };
  const gateway = await startGateway(motoEndpoint, state, secret);
  const endpoint = `http://127.0.0.1:${(gateway.address() as net.AddressInfo).port}`;
  const { post } = motoControl(motoEndpoint);
  const setIamEnforcement = async (on: boolean) => {
    await post("/moto-api/reset-auth", on ? "0" : "1000000000");
  };
  return {
    endpoint,
    motoEndpoint,
    setIamEnforcement,
    unenforced: async (f) => {
      await setIamEnforcement(false);
      try {
        return await f();
      } finally {
        await setIamEnforcement(true);
      }
    },
    setOrganizationFeatures: (list) => {
      state.features = [...list];
    },
    setIamTrustedAccess: (enabled) => {
      state.iamTrustedAccess = enabled;
    },
    setReportGenerationMs: (ms) => {
      state.reportGenerationMs = ms;
    },
    setSecurityHubDisabled: async (accountIds) => {
      await post("/moto-api/orgmfa/securityhub-disabled", JSON.stringify(accountIds));
    },
    createUsers: async (accountId, users) => {
      if (users.length) await post("/moto-api/orgmfa/iam-users", JSON.stringify({ accountId, users }));
    },
    registerFidoDevice: async (accountId, userName, serialNumber, certifications) => {
      await post(
        "/moto-api/orgmfa/fido-device",
        JSON.stringify({ accountId, userName, serialNumber, ...(certifications ? { certifications } : {}) }),
      );
    },
    setRootState: (accountId, root) => {
      state.roots.set(accountId, root);
    },
    setReportAge: (accountId, ageMs) => {
      state.reportAges.set(accountId, ageMs);
    },
    reset: async () => {
      state.roots.clear();
      state.reportAges.clear();
      state.generated.clear();
      state.keyAccount.clear();
      state.rootSessions.clear();
      state.features = [];
      state.iamTrustedAccess = true;
      await post("/moto-api/reset");
      await post("/moto-api/orgmfa/securityhub-disabled", "[]");
    },
    stop: async () => {
      gateway.closeAllConnections();
      await new Promise<void>((r) => gateway.close(() => r()));
      await motoProcess.stop();
    },
  };
}
