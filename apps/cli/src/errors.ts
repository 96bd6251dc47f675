/** A usage or configuration error: exit 2, with a message that names the bad flag or field. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
