/**
 * Every AWS call the deployment makes, by whom, on what, with the request context AWS sends — the one
 * list the permission proof (apps/infra/test/permission-proof.test.ts) evaluates against the
 * synthesized templates with a real policy engine. Each call names the file that makes it and a piece
 * of that file's text (`code`), which the proof checks is there, so a call moved or renamed in the code
 * is noticed here. Calls made by AWS services on the deployment's behalf (a dead letter, an alarm, a
 * log record, a role assumed by Lambda, Step Functions or Scheduler) name the source file that
 * configures them.
 *
 * The S3 keys come from the key helpers the code uses: those of this package (`scanConfigKey`,
 * `scanKeyPrefix`, `latestKeyPrefix`, `REPORT_FILE_NAMES`) and the run-state layout of the functions
 * (`runKeys` and its siblings in apps/functions/src/run-store.ts), passed in as {@link RunStateLayout}.
 * The statements that grant these calls are written once in ../policies.ts (the functions' roles), in
 * the CDK app's constructs, apps/infra/lib/constructs/ (the service-facing resources), and in
 * stacksets/member-audit-role.yaml (the member roles); this module does not restate them.
 *
 * The calls are built by section, in this order (each file holds a group of sections): ./scan.ts (Discover,
 * Owners, ScanBatch, Publish), ./quarantine.ts (Enforce, the forwarding of IAM's events, the central
 * rule), ./services.ts (the scan-configuration writer, access logs, the functions' runtime, the workflow,
 * the schedule, the alarms, the log groups). ./builder.ts holds what the sections share and the helpers
 * that add calls; ./types.ts the types, the sample values and the source files.
 */
import { inventoryBuilder } from "./builder";
import { enforceCalls, forwardingCalls } from "./quarantine";
import { discoverCalls, ownersCalls, publishCalls, scanBatchCalls } from "./scan";
import {
  accessLogCalls,
  alarmCalls,
  functionRuntimeCalls,
  logGroupCalls,
  scanConfigWriterCalls,
  scheduleCalls,
  workflowCalls,
} from "./services";
import type { DeploymentFacts, InventoryCall } from "./types";

export {
  type CallPrincipal,
  type CentralRoleId,
  type DeploymentFacts,
  INVENTORY_SAMPLES,
  type InventoryCall,
  type MemberRoleId,
  principalName,
  type RunStateLayout,
} from "./types";

/** The calls of the deployment described by `d` (with the quarantine's when `d.quarantine` is set). */
export function callInventory(d: DeploymentFacts): InventoryCall[] {
  const b = inventoryBuilder(d);
  for (const section of [
    discoverCalls,
    ownersCalls,
    scanBatchCalls,
    publishCalls,
    enforceCalls,
    forwardingCalls,
    scanConfigWriterCalls,
    accessLogCalls,
    functionRuntimeCalls,
    workflowCalls,
    scheduleCalls,
    alarmCalls,
    logGroupCalls,
  ])
    section(b);
  return b.calls;
}
