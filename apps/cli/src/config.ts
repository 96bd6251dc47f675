import { readFileSync } from "node:fs";
import type { DiscoveryFilters } from "@orgmfa/aws";
import { CHECK_IDS, type CheckId, ConfigError, type OrgMfaConfig, parseConfigText } from "@orgmfa/core";
import { sha256Hex } from "@orgmfa/render";
import type { ScopeFlags } from "./flags";

// What a command runs with besides its flags: the --config file, and what the flags change in it
// (the checks to run, the scope). docs/usage.md, "Config file", describes the file.

/** The config file's parsed content and the SHA-256 of its bytes (recorded in the report). */
export function loadConfig(file: string): { config: OrgMfaConfig; sha256: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(
      `--config: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). Pass the path of a JSON config file.`,
    );
  }
  return { config: parseConfigText(text, `--config ${file}`), sha256: sha256Hex(text) };
}

/** The config with `--checks` / `--exclude-checks` applied (the flags win over the file). */
export function applyCheckFlags(
  config: OrgMfaConfig,
  f: { checks?: readonly CheckId[]; excludeChecks?: readonly CheckId[] },
): OrgMfaConfig {
  if (!f.checks && !f.excludeChecks) return config;
  const only = f.checks ? new Set(f.checks) : null;
  const off = new Set(f.excludeChecks ?? []);
  const checks: NonNullable<OrgMfaConfig["checks"]> = { ...config.checks };
  for (const id of CHECK_IDS) {
    if ((only && !only.has(id)) || off.has(id)) checks[id] = { ...checks[id], enabled: false };
    else if (only?.has(id)) checks[id] = { ...checks[id], enabled: true };
  }
  return { ...config, checks };
}

/** The discovery filters the scope flags give (scan, doctor and enforce alike); each given replaces the config's. */
export function scopeOf(flags: ScopeFlags): DiscoveryFilters {
  return {
    accounts: flags.accounts,
    excludeAccounts: flags.excludeAccounts,
    ous: flags.ou,
    excludeOus: flags.excludeOu,
  };
}

/** A config warning as stderr says it, naming the --config file when there is one. */
export const configWarningLine = (flags: { config?: string }, w: { field: string; message: string }) =>
  `${flags.config ? `--config ${flags.config}: ` : ""}${w.field}: ${w.message}`;
