/** Option values shared by the commands (a module of its own: the CLI loads it at start). */

/** The output formats of `orgmfa scan` and `orgmfa report`. */
export const FORMATS = ["table", "json", "csv", "html", "asff", "ocsf"] as const;
export type Format = (typeof FORMATS)[number];

/** The default `--s3-prefix`. */
export const DEFAULT_S3_PREFIX = "orgmfa";
