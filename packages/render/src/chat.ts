import { createHash } from "node:crypto";
import {
  type Finding,
  headline,
  headlineText,
  parseFindingId,
  plural,
  principalLabel,
  type ReportAccount,
  type ScanReport,
  SEVERITIES,
} from "@orgmfa/core";
import {
  coverageSentence,
  type DigestOptions,
  digestSubject,
  SNS_MAX_BYTES,
  section,
  severityCounts,
  topAccounts,
} from "./digest";
import { accountOf } from "./report-index";

/**
 * A custom notification of Amazon Q Developer in chat applications (formerly AWS Chatbot), as its
 * administrator guide documents it ("Custom notifications using Amazon Q Developer in chat
 * applications", https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html): published
 * as the whole SNS message, JSON. `version`, `source` and `content.description` are required.
 */
export interface ChatNotification {
  version: "1.0";
  source: "custom";
  /** Unique event identifier. */
  id?: string;
  content: {
    /** The only value documented: the target platform's own markdown (Slack's, Teams'). */
    textType?: "client-markdown";
    title?: string;
    description: string;
    nextSteps?: string[];
    keywords?: string[];
  };
  metadata?: {
    /** Notifications with the same threadId are grouped in one thread (when the channel's preferences allow it). */
    threadId?: string;
    summary?: string;
    eventType?: string;
    relatedResources?: string[];
    additionalContext?: Record<string, string>;
  };
}

/** One thread for the whole organization, or one per OU (each account's OU path) besides the organization's. */
export const CHAT_THREAD_BY = ["organization", "ou"] as const;
export type ChatThreadBy = (typeof CHAT_THREAD_BY)[number];

/**
 * The most characters a chat digest's description has. Amazon Q Developer documents no length limit
 * for its fields; Slack cuts a section's text at 3,000 characters (Block Kit reference, "Section
 * block"), so the description stays within that, whatever the platform.
 */
export const CHAT_DESCRIPTION_MAX_CHARS = 3000;

export interface ChatDigestOptions extends Pick<DigestOptions, "reportLocation" | "deliveryProblems"> {
  /** @default "organization" */
  threadBy?: ChatThreadBy;
  /** Entries shown per list before "… and N more" (fewer when the description would be too long). @default 5 */
  listLimit?: number;
  /** With `threadBy: "ou"`: OU messages at most (those with new findings first); the rest are in the report only. @default 25 */
  maxOuMessages?: number;
  /** @default CHAT_DESCRIPTION_MAX_CHARS */
  maxDescriptionChars?: number;
}

/** One message for the chat topic: the notification and its JSON, the SNS message as published. */
export interface ChatMessage {
  threadId: string;
  /** The OU this message is about; null for the organization's message. */
  ouPath: string | null;
  notification: ChatNotification;
  /** `JSON.stringify(notification)`: the SNS message body, under SNS's 256 KB. */
  message: string;
}

const EVENT_TYPE = { organization: "orgmfa.scan.digest", ou: "orgmfa.scan.ou-digest" } as const;

/**
 * An organization-supplied string as plain chat text: one line, at most `max` characters, nothing a
 * chat client could turn into a mention, a link or an HTML entity (`<`, `>`, `&`, `@` become look-alikes),
 * nor into code or emphasis (backticks, asterisks, tildes).
 */
export function chatText(s: string, max = 80): string {
  const flat = s
    .replace(/[\p{Cc}\u2028\u2029]+/gu, " ")
    .replace(/</g, "‹")
    .replace(/>/g, "›")
    .replace(/&/g, "＆")
    .replace(/@/g, "＠")
    .replace(/`/g, "ˋ")
    .replace(/\*/g, "∗")
    .replace(/~/g, "∼")
    .trim();
  const chars = [...flat];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : flat;
}

/** An organization-supplied name in a code span: shown as typed, never formatted (see {@link chatText}). */
const code = (s: string, max = 64) => `\`${chatText(s, max) || "?"}\``;

const hash = (s: string) => createHash("sha256").update(s, "utf8").digest("hex").slice(0, 16);
const threadOf = (report: ScanReport, ouPath: string | null) => {
  const org = `orgmfa-${report.organizationId ?? "standalone"}`;
  return ouPath === null ? org : `${org}-ou-${hash(ouPath)}`;
};

/** The S3 object ARN of an `s3://bucket/key` location (for `relatedResources`); null for anything else. */
function s3Arn(location: string | null, partition: string): string | null {
  const m = location ? /^s3:\/\/([^/]+)\/(.+)$/.exec(location) : null;
  return m ? `arn:${partition}:s3:::${m[1]}/${m[2]}` : null;
}

const bullet = (s: string) => `• ${s}`;

function describeNew(f: Finding): string {
  return bullet(
    `${f.severity} ${f.checkId}: ${code(principalLabel(f, "(account)"))} in ${code(f.accountName)} (${f.accountId})`,
  );
}

function describeResolved(id: string): string {
  const p = parseFindingId(id);
  if (!p) return bullet(code(id, 120));
  const who = p.principal.kind === "user" ? p.principal.userName : p.principal.kind;
  return bullet(`${p.checkId}: ${code(who)} in ${p.accountId}`);
}

function describeAccount(report: ScanReport, accountId: string, open: Finding[], withOu: boolean): string {
  const a = accountOf(report, accountId);
  return bullet(
    `${code(a?.accountName ?? accountId)} (${accountId})${a && withOu ? `, ${code(a.ouPath, 96)}` : ""}: ${open.length} open (${severityCounts(open)})`,
  );
}

/** The part of a report one message is about: all of it, or one OU's accounts, findings and changes. */
interface Scope {
  report: ScanReport;
  ouPath: string | null;
  /** The subset as a report, so that `headline`, `headlineText` and `digestSubject` count it their one way. */
  view: ScanReport;
  fresh: Finding[];
  resolved: string[];
  open: number;
}

const openOf = (fs: readonly Finding[]) => fs.filter((f) => f.status === "OPEN").length;

/** The whole report as one scope. */
function organizationScope(report: ScanReport): Scope {
  const byId = new Map(report.findings.map((f) => [f.id, f]));
  const fresh = (report.changes?.new ?? []).map((id) => byId.get(id)).filter((f): f is Finding => f !== undefined);
  const resolved = report.changes?.resolved ?? [];
  return { report, ouPath: null, view: report, fresh, resolved, open: openOf(report.findings) };
}

/**
 * One scope per OU path (each account's direct OU), built in one pass over the report: the OU's
 * accounts, their findings, new and resolved findings, and its own account counts.
 */
function ouScopes(report: ScanReport, org: Scope): Scope[] {
  const ouOf = new Map(report.accounts.map((a) => [a.accountId, a.ouPath]));
  const groups = new Map<
    string,
    { accounts: ReportAccount[]; findings: Finding[]; fresh: Finding[]; resolved: string[] }
  >();
  const group = (ou: string) => {
    const g = groups.get(ou) ?? { accounts: [], findings: [], fresh: [], resolved: [] };
    groups.set(ou, g);
    return g;
  };
  for (const a of report.accounts) group(a.ouPath).accounts.push(a);
  const into = <T>(accountId: string, pick: (g: ReturnType<typeof group>) => T[], item: T) => {
    const ou = ouOf.get(accountId);
    if (ou !== undefined) pick(group(ou)).push(item);
  };
  for (const f of report.findings) into(f.accountId, (g) => g.findings, f);
  for (const f of org.fresh) into(f.accountId, (g) => g.fresh, f);
  for (const id of org.resolved) into(parseFindingId(id)?.accountId ?? "", (g) => g.resolved, id);
  return [...groups.entries()].map(([ouPath, g]) => {
    const count = (st: ReportAccount["status"]) => g.accounts.filter((a) => a.status === st).length;
    const audited = count("AUDITED");
    const failed = count("FAILED");
    const view: ScanReport = {
      ...report,
      accounts: g.accounts,
      findings: g.findings,
      summary: {
        ...report.summary,
        accounts: { listed: g.accounts.length, inScope: audited + failed, audited, failed, skipped: count("SKIPPED") },
        coverage: audited + failed === 0 ? 0 : audited / (audited + failed),
      },
      changes: report.changes ? { ...report.changes, new: g.fresh.map((f) => f.id), resolved: g.resolved } : null,
    };
    return { report, ouPath, view, fresh: g.fresh, resolved: g.resolved, open: openOf(g.findings) };
  });
}

/** The OUs worth a message: with open findings, changes or accounts not audited; new findings first, then the most open. */
function ousToPost(report: ScanReport, org: Scope): Scope[] {
  return ouScopes(report, org)
    .filter((s) => s.open > 0 || s.fresh.length + s.resolved.length > 0 || s.view.summary.accounts.failed > 0)
    .sort(
      (a, b) =>
        b.fresh.length - a.fresh.length ||
        b.open - a.open ||
        b.resolved.length - a.resolved.length ||
        (a.ouPath ?? "").localeCompare(b.ouPath ?? ""),
    );
}

function description(
  scope: Scope,
  o: ChatDigestOptions,
  limit: number,
  ous: { shown: Scope[]; total: number },
): string {
  const { view, fresh, resolved } = scope;
  const h = headlineText(view);
  const previous = view.changes?.previousScanId;
  const lines: string[] = [];
  if (scope.ouPath !== null) lines.push(`OU ${code(scope.ouPath, 120)}`, "");
  lines.push(`${h.users}.`, `${h.findings}.`, coverageSentence(view));
  const failed = view.accounts.filter((a) => a.status === "FAILED");
  lines.push(
    ...section(
      `Not audited (${failed.length}) — their users' MFA is unknown:`,
      failed.map((a) =>
        bullet(`${code(a.accountName)} (${a.accountId}): ${a.reason}${a.error ? ` — ${a.error.code}` : ""}`),
      ),
      limit,
    ),
  );
  if (scope.ouPath === null) {
    const problems = o.deliveryProblems ?? [];
    lines.push(
      ...section(
        `Not delivered (${problems.length}) — the report has these findings, the target does not:`,
        problems.map((p) => bullet(`${chatText(p.target, 40)}: ${chatText(p.message, 200)}`)),
        limit,
      ),
    );
  }
  if (previous !== undefined) {
    lines.push(
      ...section(`New since scan ${chatText(previous, 80)} (${fresh.length}):`, fresh.map(describeNew), limit),
      ...section(
        `Resolved since scan ${chatText(previous, 80)} (${resolved.length}):`,
        resolved.map(describeResolved),
        limit,
      ),
    );
    if (fresh.length === 0 && resolved.length === 0) lines.push("", `No change since scan ${chatText(previous, 80)}.`);
  }
  const top = topAccounts(view);
  lines.push(
    ...section(
      "Worst accounts (open findings):",
      top.map(([id, open]) => describeAccount(scope.report, id, open, scope.ouPath === null)),
      limit,
    ),
  );
  if (ous.total > 0) {
    lines.push(
      ...section(
        `OUs with open findings, changes or accounts not audited (${ous.total}) — each in its own thread:`,
        ous.shown.map((s) =>
          bullet(`${code(s.ouPath ?? "", 96)}: ${s.open} open, ${s.fresh.length} new, ${s.resolved.length} resolved`),
        ),
        limit,
        ous.total,
      ),
    );
    if (ous.total > ous.shown.length)
      lines.push(
        `${plural(ous.total - ous.shown.length, "OU")} beyond the first ${ous.shown.length} have no chat message this scan: see the report.`,
      );
  }
  lines.push(
    "",
    o.reportLocation ? `Full report: ${chatText(o.reportLocation, 400)}` : "The full report was not stored.",
  );
  return lines.join("\n");
}

function nextSteps(scope: Scope, o: ChatDigestOptions): string[] {
  const h = headline(scope.view);
  const steps: string[] = [];
  if (o.reportLocation) steps.push(`Open the full report: ${chatText(o.reportLocation, 400)}`);
  if (h.openFindings.total > 0)
    steps.push(
      "Give each user without MFA a device (a FIDO2 security key resists phishing), or remove the password and access keys it does not need: the report gives each finding's fix.",
    );
  if (scope.view.summary.accounts.failed > 0)
    steps.push(
      "Run orgmfa doctor: it says, account by account, why an account could not be audited and how to fix it.",
    );
  if (scope.ouPath === null && (o.deliveryProblems?.length ?? 0) > 0)
    steps.push("Check the targets under Not delivered: those findings are in the report only.");
  return steps;
}

function notification(scope: Scope, o: ChatDigestOptions, ous: { shown: Scope[]; total: number }): ChatNotification {
  const { report, view, ouPath } = scope;
  const max = o.maxDescriptionChars ?? CHAT_DESCRIPTION_MAX_CHARS;
  // Characters (UTF-16 units, never fewer than the characters shown), not bytes: halve the lists until
  // the description fits; with no list left, cut it.
  let limit = o.listLimit ?? 5;
  let text = description(scope, o, limit, ous);
  while (text.length > max && limit > 0) {
    limit = Math.floor(limit / 2);
    text = description(scope, o, limit, ous);
  }
  if (text.length > max) text = `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, "")}…`;
  const h = headline(view);
  const subject = digestSubject(view);
  const title = ouPath === null ? subject : `${chatText(ouPath, 60)} - ${subject}`;
  const open = view.findings.filter((f) => f.status === "OPEN");
  const highest = SEVERITIES.find((k) => open.some((f) => f.severity === k));
  const keywords = [
    "orgmfa",
    ...(highest ? [highest] : []),
    ...(view.summary.accounts.failed ? ["not audited"] : []),
    ...(scope.fresh.length ? ["new findings"] : []),
  ];
  const steps = nextSteps(scope, o);
  const related = s3Arn(o.reportLocation, report.partition);
  const w = h.withoutMfa;
  const context: Record<string, string> = {
    scanId: report.scanId,
    organizationId: report.organizationId ?? "",
    ...(ouPath !== null ? { ouPath: ouPath.slice(0, 256) } : {}),
    usersWithoutMfa: view.summary.accounts.audited > 0 ? String(w.total) : "unknown",
    openFindings: String(h.openFindings.total),
    newFindings: String(scope.fresh.length),
    resolvedFindings: String(scope.resolved.length),
    coverage: view.summary.coverage.toFixed(4),
    reportLocation: (o.reportLocation ?? "").slice(0, 1024),
  };
  return {
    version: "1.0",
    source: "custom",
    id: ouPath === null ? report.scanId : `${report.scanId}/${hash(ouPath)}`,
    content: {
      textType: "client-markdown",
      title: title.slice(0, 250),
      description: text,
      ...(steps.length ? { nextSteps: steps } : {}),
      keywords,
    },
    metadata: {
      threadId: threadOf(report, ouPath),
      summary: chatText(`${ouPath === null ? "" : `${ouPath}: `}${headlineText(view).users}`, 200),
      eventType: ouPath === null ? EVENT_TYPE.organization : EVENT_TYPE.ou,
      ...(related ? { relatedResources: [related] } : {}),
      additionalContext: context,
    },
  };
}

/**
 * The scan digest as Amazon Q Developer custom notifications, for the chat topic (docs/chat-digest.md):
 * the organization's message first (thread `orgmfa-<organization id>`), then, with `threadBy: "ou"`,
 * one per OU with open findings, changes or accounts not audited (at most `maxOuMessages`), each in the
 * OU's own thread. Every number is the plain digest's (`headline`, `headlineText`, `digestSubject`,
 * applied to the OU's part for an OU); each description stays within `maxDescriptionChars` and each
 * message far under SNS's 256 KB, whatever the organization's size.
 */
export function buildChatDigest(report: ScanReport, o: ChatDigestOptions): ChatMessage[] {
  const org = organizationScope(report);
  const all = (o.threadBy ?? "organization") === "ou" ? ousToPost(report, org) : [];
  const shown = all.slice(0, Math.max(0, o.maxOuMessages ?? 25));
  const scopes: Array<[Scope, { shown: Scope[]; total: number }]> = [
    [org, { shown, total: all.length }],
    ...shown.map((s): [Scope, { shown: Scope[]; total: number }] => [s, { shown: [], total: 0 }]),
  ];
  return scopes.map(([scope, ous]) => {
    const n = notification(scope, o, ous);
    const message = JSON.stringify(n);
    if (Buffer.byteLength(message, "utf8") > SNS_MAX_BYTES)
      throw new Error(`chat digest for ${scope.ouPath ?? "the organization"} is over SNS's 256 KB`);
    return { threadId: n.metadata?.threadId ?? "", ouPath: scope.ouPath, notification: n, message };
  });
}
