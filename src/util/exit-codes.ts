/**
 * The exit codes of every qglass command, one meaning each:
 *   0 success; 1 usage error (unknown command or option, malformed option syntax);
 *   2 bad input (a file, a non-physical parameter, a value out of bounds);
 *   3 a computation did not converge (results are still written and marked converged: false);
 *   4 an operating-system failure outside qglass's control (disk full, I/O error, permission);
 *   130 interrupted (SIGINT), 143 terminated (SIGTERM), 129 hang-up (SIGHUP).
 */
export const EXIT = {
  ok: 0,
  usage: 1,
  badInput: 2,
  notConverged: 3,
  system: 4,
  hangup: 129,
  interrupted: 130,
  terminated: 143,
} as const;

/** Exit code for a terminating signal (128 + its number, the shell convention). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? EXIT.interrupted : signal === 'SIGHUP' ? EXIT.hangup : EXIT.terminated;
}
