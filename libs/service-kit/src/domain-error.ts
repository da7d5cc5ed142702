/**
 * What kind of "no" a service's domain answers, in its own words; the error handler gives each
 * kind its status code, so every service maps the same outcome the same way:
 * - `invalid`: the request asks for something that cannot be (400)
 * - `not_found`: what the path names does not exist (404)
 * - `conflict`: the request collides with the current state (409)
 * - `unprocessable`: the body is well-formed but refers to something that does not fit (422)
 * - `unavailable`: something the service depends on did not answer usably (503)
 */
export type DomainErrorKind = 'invalid' | 'not_found' | 'conflict' | 'unprocessable' | 'unavailable';

export interface DomainErrorOptions {
  /** The `code` of the JSON error body, when the outcome has a name of its own; else the kind's. */
  code?: string;
  /** The `details` of the JSON error body. */
  details?: unknown;
  cause?: unknown;
}

/**
 * Base of every domain error: domain code throws these and knows nothing of HTTP; the error
 * handler (error-handler.ts) is the one place that turns them into status codes and bodies.
 */
export abstract class DomainError extends Error {
  abstract readonly kind: DomainErrorKind;
  readonly code: string | undefined;
  readonly details: unknown;

  constructor(message: string, { code, details, cause }: DomainErrorOptions = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}
