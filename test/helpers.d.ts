export declare const BIN: string;
/** An environment with nothing of the developer's AWS setup in it. */
export declare function cleanEnv(extra?: Record<string, string | undefined>): Record<string, string>;
/** Runs the real `orgmfa` binary as a user would. */
export declare function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{
  code: number;
  stdout: string;
  stderr: string;
}>;
