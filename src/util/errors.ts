/** An error caused by the user's input (options, files): reported without a stack trace, exit code 2. */
export class UserError extends Error {}
