/**
 * Typed errors. Every failure mecom can name has a subclass with a stable
 * `code`; callers (and tests) match on `code`, never on message text.
 * The CLI prints `mecom: <message> [<code>]` and exits non-zero for any
 * MecomError, so a user never sees a stack trace for a known failure.
 */
export class MecomError extends Error {
  readonly code: string;
  /** Exit status the CLI uses for this error (2 = usage, 1 = runtime). */
  readonly exitCode: number;
  constructor(code: string, message: string, opts: { cause?: unknown; exitCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** Bad command-line input: exit code 2. */
export class UsageError extends MecomError {
  constructor(message: string) {
    super('MECOM_USAGE', message, { exitCode: 2 });
  }
}

/** Any thrown value as a MecomError: known failures pass through, the rest is an internal error. */
export function asMecomError(err: unknown): MecomError {
  if (err instanceof MecomError) return err;
  return new MecomError('MECOM_INTERNAL', `internal error: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}
