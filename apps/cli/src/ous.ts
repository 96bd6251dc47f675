import { discoverOrganization } from "@orgmfa/aws";
import { EXIT } from "@orgmfa/core";
import Table from "cli-table3";
import { type ContextIo, withCommandContext } from "./context";
import type { IdentityFlags } from "./flags";
import { sinks } from "./io";

export interface OusFlags extends IdentityFlags {
  format?: "table" | "json";
}

/**
 * `orgmfa ous`: the organization's root and OUs with their ids and paths — what `--ou` and
 * `--exclude-ou` (and the config's `ous`) take, by id, path or unique name.
 */
export async function runOusCommand(flags: OusFlags, io: ContextIo): Promise<number> {
  const { out } = sinks(io);
  return withCommandContext(flags, io, async ({ pool, caller }) => {
    await caller();
    // Organizations that cannot be read ends the command: the context says why (exit 2).
    const { ous } = await discoverOrganization(pool.organizations());
    if (flags.format === "json") {
      out.write(`${JSON.stringify(ous, null, 2)}\n`);
      return EXIT.OK;
    }
    const t = new Table({ head: ["Path", "Id", "Accounts in it"], style: { head: [], border: [] } });
    for (const ou of ous) t.push([ou.path, ou.id, ou.accounts]);
    out.write(`${t.toString()}\n--ou and --exclude-ou take an id, a path or a name from this list.\n`);
    return EXIT.OK;
  });
}
