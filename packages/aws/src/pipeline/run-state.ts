import type { RunFile, ScanPace, StateFile } from "@orgmfa/contract";
import {
  type AccountEntry,
  type AccountTarget,
  type OrgMfaConfig,
  type usersWithoutMfa,
  withPackedUsers,
} from "@orgmfa/core";
import type { DiscoveryFilters } from "../discovery";
import type { OwnerTagCache } from "../owners";
import type { HubSyncResult } from "../security-hub";

/**
 * One scan's working state between its phases: what Discover established, which every later phase
 * reads. Plain data, so that it crosses a process boundary (the deployed workflow keeps it in S3).
 */
export interface RunContext {
  scanId: string;
  startedAt: string;
  organizationId: string | null;
  partition: string;
  /** The management account, when discovery read it. */
  managementAccountId?: string | null;
  rootCredentialsManagement: boolean | null;
  /** IAM organization feature RootSessions (sts:AssumeRoot); null: unknown. Absent in runs before it. */
  rootSessions?: boolean | null;
  config: OrgMfaConfig;
  /** The scope the accounts were chosen by (command-line filters replace the config's). */
  filters?: DiscoveryFilters;
  /**
   * Where `config` came from: the deployed scan configuration object and the version of it that was
   * read, or null when the config was given directly (a file, or the workflow's input).
   */
  configSource?: { bucket: string; key: string; versionId: string | null } | null;
  /**
   * The previous scan's report as it was when this run started (copied there by Discover), so that a
   * retried or redriven Publish compares with the same scan, not with the one it just wrote. Null:
   * there was none (the first run) or it could not be read (`previousWarning` says why).
   */
  previousKey?: string | null;
  previousWarning?: string | null;
}

/**
 * What the Owners phase knew: the owner of every in-scope account that is known, from this run's
 * reads or earlier runs' (the owner-tag cache), and how many were read, taken from earlier, unknown.
 */
export interface RunOwners {
  tag: string;
  owners: Record<string, string | null>;
  read: number;
  fromCache: number;
  unread: number;
  oldestRead: string | null;
}

/**
 * One account's result, written by the scan phase the moment the account ends: its report entry —
 * evaluated once, as it ended, and the same findings its own Security Hub got — and its delivery.
 */
export interface AccountResult {
  accountId: string;
  /** The account's ledger entry (with its users) and its findings. */
  entry: AccountEntry;
  /** The account's own Security Hub, synced by the phase that scanned it (absent: not attempted). */
  delivery?: { securityHub: HubSyncResult };
  /** Seconds the account took, its hub sync included: the pace the next run's Map concurrency follows. */
  seconds?: number;
}

/** Who the run found without MFA, by audited account (the aggregate phase writes it for the sweep). */
export type RunWithoutMfa = ReturnType<typeof usersWithoutMfa>;

/** The objects of one run, by name (the keys of `RUN_FILES`). */
export interface RunObjects {
  context: RunContext;
  targets: AccountTarget[];
  previous: unknown;
  ledger: AccountTarget[];
  owners: RunOwners;
  withoutMfa: RunWithoutMfa;
  quarantine: unknown;
}

/** What runs keep between them, by name (the keys of `STATE_FILES`). */
export interface KeptObjects {
  ownerTags: OwnerTagCache;
  accountOus: Record<string, string[]>;
  pace: ScanPace;
}

/**
 * The run-state store: one run's objects and its per-account results. In memory for `orgmfa scan`, in
 * the report bucket for the deployed workflow; the phases do not know which.
 */
export interface RunStateStore {
  readonly scanId: string;
  put<F extends RunFile>(file: F, value: RunObjects[F]): Promise<void>;
  /** @throws when the object is missing. */
  get<F extends RunFile>(file: F): Promise<RunObjects[F]>;
  /** The object, or null when there is none. */
  find<F extends RunFile>(file: F): Promise<RunObjects[F] | null>;
  putResult(result: AccountResult): Promise<void>;
  /**
   * The results of the given accounts, each handed to `onResult` as it arrives; an account without a
   * result is not handed over (the report then marks it FAILED). The number handed over.
   */
  results(accountIds: readonly string[], onResult: (result: AccountResult) => void): Promise<number>;
}

/** What runs keep between them: the owner-tag cache, the accounts' OU ids, the last run's pace. */
export interface KeptStateStore {
  /** The object, or null when there is none. */
  find<S extends StateFile>(file: S): Promise<unknown | null>;
  put<S extends StateFile>(file: S, value: KeptObjects[S]): Promise<void>;
}

/** Run state and kept state in one place: one run's store by its scan id. */
export interface RunStates {
  run(scanId: string): RunStateStore;
  readonly kept: KeptStateStore;
}

/**
 * The in-memory store of `orgmfa scan`: results are kept with their users deflated
 * ({@link withPackedUsers}), so a scan of 10,000 accounts holds compact entries, not every user.
 */
export class MemoryRunStates implements RunStates {
  private readonly runs = new Map<string, MemoryRunState>();
  private readonly keptObjects = new Map<string, unknown>();

  run(scanId: string): RunStateStore {
    const known = this.runs.get(scanId);
    if (known) return known;
    const created = new MemoryRunState(scanId);
    this.runs.set(scanId, created);
    return created;
  }

  readonly kept: KeptStateStore = {
    find: async (file) => this.keptObjects.get(file) ?? null,
    put: async (file, value) => {
      this.keptObjects.set(file, value);
    },
  };
}

class MemoryRunState implements RunStateStore {
  private readonly objects = new Map<RunFile, unknown>();
  private readonly byAccount = new Map<string, AccountResult>();
  constructor(readonly scanId: string) {}

  async put<F extends RunFile>(file: F, value: RunObjects[F]): Promise<void> {
    this.objects.set(file, value);
  }
  async get<F extends RunFile>(file: F): Promise<RunObjects[F]> {
    if (!this.objects.has(file)) throw new Error(`run ${this.scanId} has no ${file}`);
    return this.objects.get(file) as RunObjects[F];
  }
  async find<F extends RunFile>(file: F): Promise<RunObjects[F] | null> {
    return (this.objects.get(file) as RunObjects[F] | undefined) ?? null;
  }
  async putResult(result: AccountResult): Promise<void> {
    this.byAccount.set(result.accountId, {
      ...result,
      entry: { account: withPackedUsers(result.entry.account), findings: result.entry.findings },
    });
  }
  async results(accountIds: readonly string[], onResult: (result: AccountResult) => void): Promise<number> {
    let n = 0;
    for (const id of accountIds) {
      const r = this.byAccount.get(id);
      if (r) {
        onResult(r);
        n++;
      }
    }
    return n;
  }
}
