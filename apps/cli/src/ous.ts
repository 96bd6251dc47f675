import { DiscoveryError, discoverOrganization } from "@orgmfa/aws";
import { EXIT } from "@orgmfa/core";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import Table from "cli-table3";
import { UsageError } from "./errors";
import { type Io, sinks } from "./io";
import { callerOf, checkEndpointEnv, discoveryProblem, poolOf, regionOf, type ScanFlags, validateFlags } from "./scan";

export interface OusFlags extends Pick<ScanFlags, "profile" | "region" | "orgRoleArn"> {
  format?: "table" | "json";
}

export interface OusIo extends Io {
  /** Base credentials (tests); otherwise the standard chain. */
  credentials?: AwsCredentialIdentityProvider;
}

/**
 * `orgmfa ous`: the organization's root and OUs with their ids and paths — what `--ou` and
 * `--exclude-ou` (and the config's `ous`) take, by id, path or unique name.
 */
export async function runOusCommand(flags: OusFlags, io: OusIo): Promise<number> {
  const { out } = sinks(io);
  validateFlags({ ...flags, concurrency: 8, roleName: "OrgMfaAuditRole" });
  checkEndpointEnv();
  const region = await regionOf(flags);
  const pool = poolOf({ ...flags, roleName: "OrgMfaAuditRole" }, region, io.credentials);
  try {
    const caller = await callerOf(pool, flags, region);
    let ous: Awaited<ReturnType<typeof discoverOrganization>>["ous"];
    try {
      ous = (await discoverOrganization(pool.organizations())).ous;
    } catch (e) {
      if (e instanceof DiscoveryError) throw new UsageError(discoveryProblem(e, flags, caller.arn));
      throw e;
    }
    if (flags.format === "json") {
      out.write(`${JSON.stringify(ous, null, 2)}\n`);
      return EXIT.OK;
    }
    const t = new Table({ head: ["Path", "Id", "Accounts in it"], style: { head: [], border: [] } });
    for (const ou of ous) t.push([ou.path, ou.id, ou.accounts]);
    out.write(`${t.toString()}\n--ou and --exclude-ou take an id, a path or a name from this list.\n`);
    return EXIT.OK;
  } finally {
    pool.destroy();
  }
}
