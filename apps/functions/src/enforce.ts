import type { S3Client } from "@aws-sdk/client-s3";
import { PublishCommand } from "@aws-sdk/client-sns";
import {
  type AppliedDecision,
  decisionOutcome,
  errorCode,
  errorMessage,
  type ForwardingSummary,
  type SweepSummary as QuarantineSweepSummary,
  readForwardingBacklogs,
  reconcileUser,
  summarizeForwarding,
  summarizeSweep,
  sweepAnnouncement,
  sweepQuarantine,
} from "@orgmfa/aws";
import {
  type AccountTarget,
  DEFAULT_QUARANTINE_GROUP,
  deadlineDaysFor,
  type OrgMfaConfig,
  QUARANTINE_IAM_EVENTS,
  quarantineModeFor,
  type usersWithoutMfa,
} from "@orgmfa/core";
import { snsSubject } from "@orgmfa/render";
import type { Context } from "aws-lambda";
import { accountOusKey, quarantineRecordKey, type RunContext, type RunRef, RunStore, runKeys } from "./run-store";
import { logger, metrics, poolFor, type Settings, settings } from "./runtime";

/** The IAM calls (forwarded from each account's us-east-1 default bus) after which a user is looked at again. */
export const IAM_EVENT_NAMES = QUARANTINE_IAM_EVENTS;

/** An "AWS API Call via CloudTrail" event of IAM, as EventBridge delivers it (the fields read here). */
export interface IamCloudTrailEvent {
  "detail-type": string;
  source: string;
  /** The account the call was made in (kept when the event is forwarded to another account's bus). */
  account: string;
  detail: {
    eventSource?: string;
    eventName: string;
    /** Set when the call failed: nothing changed, nothing to do. */
    errorCode?: string;
    requestParameters?: { userName?: string; serialNumber?: string } | null;
    /** Who made the call (CloudTrail's userIdentity element; the fields read here). */
    userIdentity?: { type?: string; accountId?: string; userName?: string } | null;
  };
}

/**
 * The user an IAM event is about: the call's `userName` parameter, or — when the call had none — the
 * IAM user who made it, if the caller is an IAM user of the account the call was made in. IAM's
 * DeactivateMFADevice, CreateLoginProfile, UpdateLoginProfile and DeleteLoginProfile take the caller
 * when UserName is left out ("If no user name is included, it defaults to the principal making the
 * request", IAM API Reference): a user who removes their own MFA with the CLI names no one else.
 * A role, a federated or root caller, or a user of another account is never taken for the subject.
 */
export function eventUserName(event: Pick<IamCloudTrailEvent, "account" | "detail">): string | null {
  const named = event.detail?.requestParameters?.userName;
  if (named) return named;
  const caller = event.detail?.userIdentity;
  if (caller?.type === "IAMUser" && caller.userName && caller.accountId && caller.accountId === event.account)
    return caller.userName;
  return null;
}

export interface EnforceResult {
  accountId: string | null;
  userName: string | null;
  /** Why nothing was looked at (an event that names no user, a failed call, …). */
  ignored?: string;
  decision?: AppliedDecision;
}

let cached: { at: number; config: OrgMfaConfig; accountOus: Record<string, string[]> } | null = null;
const CACHE_MS = 5 * 60_000;

/**
 * Enforce: one IAM change in one account → that user's live state, read through the account's enforcer
 * role → the decision of the deployed scan configuration's `quarantine` (mode by OU or account, grace,
 * exemptions) → the change, in `enforce` mode. State-based: a duplicated, late or reordered event reads
 * the state as it is now, so every order of events ends in the same place.
 */
export async function handler(event: IamCloudTrailEvent, context?: Context): Promise<EnforceResult>;
export async function handler(event: SweepEvent, context?: Context): Promise<SweepSummary>;
export async function handler(
  event: IamCloudTrailEvent | SweepEvent,
  context?: Context,
): Promise<EnforceResult | SweepSummary> {
  if (context) logger.addContext(context);
  if ("sweep" in event) return sweep(event.sweep);
  const s = settings();
  const accountId = /^\d{12}$/.test(event.account ?? "") ? event.account : null;
  const userName = eventUserName(event);
  const ignore = (why: string): EnforceResult => {
    logger.info("event ignored", { why, eventName: event.detail?.eventName, accountId });
    return { accountId, userName, ignored: why };
  };
  if (event.source !== "aws.iam" || !IAM_EVENT_NAMES.includes(event.detail?.eventName as never))
    return ignore("not one of the IAM changes orgmfa follows");
  if (event.detail.errorCode) return ignore(`the call failed (${event.detail.errorCode}): nothing changed`);
  if (!accountId) return ignore("the event names no account");
  // DeleteVirtualMFADevice names a device, not its user (it was deactivated first: that event named
  // them, or its caller); called by a role, it names no one.
  if (!userName) return ignore("the event names no user");
  const pool = poolFor(s, s.ENFORCER_ROLE_NAME);
  try {
    const { config, accountOus } = await deployed(s, pool.s3());
    const q = config.quarantine;
    const mode = quarantineModeFor(q, accountId, accountOus[accountId] ?? []);
    const groupName = q?.groupName ?? DEFAULT_QUARANTINE_GROUP;
    let decision: AppliedDecision;
    try {
      decision = await reconcileUser(
        pool.iam(accountId),
        { accountId, partition: pool.partition, groupName },
        userName,
        {
          mode,
          groupName,
          now: new Date(),
          graceHours: q?.graceHours,
          exemptions: config.exemptions,
          // Where an enrolment deadline applies, the sweep quarantines (it knows each user's); an event releases only.
          deadlineUnknown: deadlineDaysFor(q, accountOus[accountId] ?? []) > 0,
          apply: true,
        },
      );
    } catch (e) {
      // The enforcer role missing (quarantine not deployed there) or a read refused: said, counted,
      // and the daily sweep tries again.
      logger.warn("user not reconciled", { accountId, userName, code: errorCode(e), message: errorMessage(e) });
      metrics.addMetric("QuarantineNotReconciled", "Count", 1);
      return { accountId, userName, ignored: `not reconciled: ${errorCode(e)}: ${errorMessage(e)}` };
    }
    if (decision.error) metrics.addMetric("QuarantineChangeFailed", "Count", 1);
    else if (decision.applied)
      metrics.addMetric(decision.action.kind === "quarantine" ? "UsersQuarantined" : "UsersReleased", "Count", 1);
    logger.info("reconciled", { eventName: event.detail.eventName, ...decision });
    if (decision.applied || decision.error) await recordAndAnnounce(s, pool, event, decision);
    return { accountId, userName, decision };
  } finally {
    metrics.publishStoredMetrics();
    pool.destroy();
  }
}

/**
 * A change an event made (or failed to make): written to `quarantine/<yyyy>/<mm>/<dd>/` in the report
 * bucket, and said on the digest topic. A record or a message that cannot be written is logged; the
 * change stands.
 */
async function recordAndAnnounce(
  s: Settings,
  pool: ReturnType<typeof poolFor>,
  event: IamCloudTrailEvent,
  d: AppliedDecision,
): Promise<void> {
  const at = new Date().toISOString();
  const verb = decisionOutcome(d).text;
  try {
    const store = new RunStore(pool.s3(), s.REPORT_BUCKET, s.KMS_KEY_ID);
    await store.put(quarantineRecordKey(s.REPORT_PREFIX, at, d.accountId, d.userName), {
      at,
      eventName: event.detail.eventName,
      eventId: (event as { id?: string }).id ?? null,
      ...d,
    });
    if (s.DIGEST_TOPIC_ARN)
      await pool.sns().send(
        new PublishCommand({
          TopicArn: s.DIGEST_TOPIC_ARN,
          Subject: snsSubject(`orgmfa quarantine: ${d.userName} in ${d.accountId} ${verb}`),
          Message: `${d.userName} in account ${d.accountId} ${verb} after ${event.detail.eventName}: ${d.reason}.`,
          MessageAttributes: { accountId: { DataType: "String", StringValue: d.accountId } },
        }),
      );
  } catch (e) {
    logger.error("the change was made but could not be recorded or announced", {
      code: errorCode(e),
      message: errorMessage(e),
    });
  }
}

/**
 * Accounts the daily sweep reconciles at once. Each account is a chain of IAM round trips (AssumeRole,
 * the group's and the policy's users, then per user GetUser, four reads and the change); IAM's rate is
 * per account, so accounts at once do not throttle each other. At 16 the workflow simulation
 * (bench/results/pipeline.md) swept 400 accounts in 33 s, waiting on round trips — 10,000 would have
 * taken ~840 s of Enforce's 900 s; at 64 it swept 10,000 (heavy-tailed) in 181 s, bound by CPU.
 */
export const SWEEP_ACCOUNT_CONCURRENCY = 64;

/** What Publish leaves for the sweep (`usersWithoutMfa` of the run's report). */
type WithoutMfa = ReturnType<typeof usersWithoutMfa>;

/** The workflow's last step: the sweep over the run's audited accounts. */
export interface SweepEvent {
  sweep: RunRef;
}

/**
 * The sweep's answer (the workflow keeps it at `$.quarantine`): counts only, so that it stays far below
 * Step Functions' 256 KiB state at any number of accounts; the run's `quarantine.json` names each.
 */
export type SweepSummary = { scanId: string } & QuarantineSweepSummary & { forwarding: ForwardingSummary };

/**
 * The daily sweep, after Publish: every audited account of the run, its console users without MFA (as
 * Publish found them) and whoever is quarantined now, each read live and decided with the run's
 * config — what events missed is corrected here. Then, in each of those accounts where quarantine is
 * not off, how many IAM events its forwarding could not deliver (its us-east-1 dead-letter queue,
 * through the enforcer role): a member account cannot reach the central digest topic itself, and its
 * own alarm would travel the very path that failed, so the central side counts (`IamEventsNotForwarded`,
 * every sweep, 0 when none; an account whose queue cannot be read — most have no forwarding — is
 * counted apart, never alarmed). Recorded in the run's `quarantine.json`; changes, accounts that could
 * not be reconciled and accounts with events not forwarded announced on the digest topic.
 */
async function sweep(ref: RunRef): Promise<SweepSummary> {
  const s = settings();
  const pool = poolFor(s, s.ENFORCER_ROLE_NAME);
  try {
    const store = new RunStore(pool.s3(), ref.bucket, s.KMS_KEY_ID);
    const keys = runKeys(s.REPORT_PREFIX, ref.scanId);
    const [run, ledger, found] = await Promise.all([
      store.get<RunContext>(ref.contextKey),
      store.get<AccountTarget[]>(keys.ledger),
      store.get<WithoutMfa>(keys.consoleWithoutMfa),
    ]);
    const consoleWithoutMfa = found.console;
    const result = await sweepQuarantine(
      pool,
      ledger.filter((t) => t.accountId in consoleWithoutMfa),
      new Map(Object.entries(consoleWithoutMfa)),
      {
        quarantine: run.config.quarantine,
        exemptions: run.config.exemptions,
        now: new Date(),
        enrolBy: found.enrolBy,
        apply: true,
        partition: pool.partition,
        concurrency: SWEEP_ACCOUNT_CONCURRENCY,
      },
    );
    // The accounts swept (audited) where quarantine is not off: their forwarding's dead letters.
    const forwarding = await readForwardingBacklogs(
      pool,
      ledger
        .filter(
          (t) =>
            t.skip === null &&
            t.accountId in consoleWithoutMfa &&
            quarantineModeFor(run.config.quarantine, t.accountId, t.ouIds ?? []) !== "off",
        )
        .map((t) => t.accountId),
      { concurrency: SWEEP_ACCOUNT_CONCURRENCY },
    );
    const summary: SweepSummary = {
      scanId: ref.scanId,
      ...summarizeSweep(result),
      forwarding: summarizeForwarding(forwarding),
    };
    await store.put(keys.quarantine, {
      ...summary,
      accounts: result.accounts,
      decisions: result.decisions,
      forwardingQueues: forwarding,
    });
    logger.info("quarantine sweep", { ...summary });
    metrics.addMetric("UsersQuarantined", "Count", summary.quarantined);
    metrics.addMetric("UsersReleased", "Count", summary.released);
    metrics.addMetric("QuarantineChangeFailed", "Count", summary.failed);
    metrics.addMetric("QuarantineNotReconciled", "Count", summary.accountsNotReconciled);
    metrics.addMetric("IamEventsNotForwarded", "Count", summary.forwarding.eventsNotForwarded);
    const announcement = sweepAnnouncement({ ...result, forwarding }, found.apiOnly);
    if (announcement && s.DIGEST_TOPIC_ARN)
      await pool.sns().send(
        new PublishCommand({
          TopicArn: s.DIGEST_TOPIC_ARN,
          Subject: announcement.subject,
          Message: `Scan ${ref.scanId}. Record: s3://${ref.bucket}/${keys.quarantine}\n\n${announcement.lines.join("\n")}`,
        }),
      );
    return summary;
  } finally {
    metrics.publishStoredMetrics();
    pool.destroy();
  }
}

/** The deployed scan configuration and the accounts' OU paths (as the last Discover listed them), cached a few minutes. */
async function deployed(s: Settings, s3: S3Client) {
  if (cached && Date.now() - cached.at < CACHE_MS) return cached;
  const store = new RunStore(s3, s.REPORT_BUCKET, s.KMS_KEY_ID);
  const config = s.CONFIG_KEY ? (await store.scanConfig(s.CONFIG_KEY)).config : {};
  // An account Discover has not listed yet (created since the last run) takes the default mode.
  const accountOus = (await store.find<Record<string, string[]>>(accountOusKey(s.REPORT_PREFIX))) ?? {};
  cached = { at: Date.now(), config, accountOus };
  return cached;
}

/** Forget the cached configuration (tests that change it between invocations). */
export function forgetDeployedConfig(): void {
  cached = null;
}
