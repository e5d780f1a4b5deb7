// Every failure reaches the user as one line on stderr and exit code 1, worded as kubectl
// words it; never a stack trace.

import type { ApiError } from '@peapod/client';

/** A failure of the command itself (bad flags, unknown type, timeout): printed as `error: ...`. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof Error && err.name === 'ApiError' && typeof (err as { status?: unknown }).status === 'object';
}

/** kubectl's wording for an error the server returned. */
export function apiErrorMessage(err: ApiError, context?: string): string {
  const message = err.status.message ?? err.message;
  // A missing or rejected token: kubectl says what to do rather than echo the Status.
  if (err.code === 401) return 'error: You must be logged in to the server (Unauthorized)';
  // kubectl prints an Invalid object's message bare, as a sentence: The Pod "x" is invalid: ...
  if (err.reason === 'Invalid') return /^The /.test(message) ? message : `The ${message}`;
  const where = context !== undefined ? `${context}: ` : '';
  const reason = err.reason !== undefined && String(err.reason) !== '' ? ` (${err.reason})` : '';
  return `Error from server${reason}: ${where}${message}`;
}

/** The one line to print for any error. */
export function errorLine(err: unknown): string {
  if (isApiError(err)) return apiErrorMessage(err);
  if (err instanceof Error) {
    // ConnectionError's message is already kubectl's ("The connection to the server ... was refused ...").
    if (err.name === 'ConnectionError') return err.message;
    return `error: ${err.message}`;
  }
  return `error: ${String(err)}`;
}

/** Prints the error's line and marks the process as failed. */
export function reportError(err: unknown): void {
  process.stderr.write(errorLine(err) + '\n');
  process.exitCode = 1;
}
