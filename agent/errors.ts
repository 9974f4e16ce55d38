/**
 * Startup errors: typed, with a stable code and a message that names the fix.
 *
 * Only configuration, model loading and source opening throw these; the data
 * path never throws (see events.ts). The CLI maps them to exit code 2 (usage or
 * configuration) or 1 (anything else) so systemd restarts or the user sees it.
 */
export type StartupCode =
  | 'E_CONFIG'
  | 'E_USAGE'
  | 'E_INPUT'
  | 'E_CAPTURE'
  | 'E_MODEL'
  | 'E_FEATURES'
  | 'E_DATA'
  | 'E_PUBLISH'
  | 'E_INSTALL';

export class StartupError extends Error {
  readonly code: StartupCode;
  /** What the user should do about it, printed after the message. */
  readonly hint: string | undefined;

  constructor(code: StartupCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartupError';
    this.code = code;
    this.hint = hint;
  }

  /** Exit code: 2 for mistakes in how the tool was called or configured. */
  get exitCode(): number {
    return this.code === 'E_USAGE' || this.code === 'E_CONFIG' ? 2 : 1;
  }
}

/** A configuration value is wrong; `issues` are path-qualified ("mqtt.qos must be 0, 1 or 2"). */
export class ConfigError extends StartupError {
  readonly issues: readonly string[];
  /** `checking`: check-config reports it, whose fix does not send the user to check-config again (found by review). */
  constructor(issues: readonly string[], source?: string, checking = false) {
    const where = source ? ` in ${source}` : '';
    // Without a file, the mistakes are in --set or the environment: the fix does not send the user to a file.
    const fix = source ? 'fix the listed keys' : 'fix the listed values (--set, or the environment)';
    const check = source ? `eta-sensor check-config -c ${source}` : 'eta-sensor check-config --set KEY=VALUE';
    super('E_CONFIG', `invalid configuration${where}:\n  - ${issues.join('\n  - ')}`, checking ? fix : `${fix}; \`${check}\` validates without starting`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export function usageError(message: string, command?: string): StartupError {
  const help = command ? `eta-sensor ${command} --help` : 'eta-sensor --help';
  return new StartupError('E_USAGE', message, `see \`${help}\``);
}

export function describeError(err: unknown): string {
  if (err instanceof StartupError) return err.hint ? `${err.message}\n  fix: ${err.hint}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * Ctrl-C came while an input's first bytes were awaited (a named pipe whose writer has sent nothing
 * yet), or a reader of an output (a named pipe nobody reads).
 */
export class OpenInterrupted extends Error {
  constructor(path: string, awaited: 'input' | 'reader' = 'input') {
    super(awaited === 'input' ? `stopped while waiting for the first bytes of ${path}` : `stopped while waiting for a reader of ${path}`);
    this.name = 'OpenInterrupted';
  }
}
