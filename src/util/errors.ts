/** An error caused by the user's input (options, files): reported without a stack trace, exit code 2. */
export class UserError extends Error {}

/** An operating-system failure (disk full, I/O error, permission) reported with the path it concerns: exit code 4. */
export class SystemError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}
