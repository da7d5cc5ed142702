/**
 * Errors a route throws to choose its status code; the error handler turns them into
 * `{ error: { code, message, details? } }`. Express 5 forwards rejected promises, so
 * async handlers simply throw.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class BadRequestError extends HttpError {
  constructor(message: string, details?: unknown) {
    super(400, 'bad_request', message, details);
  }
}

export class NotFoundError extends HttpError {
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

export class ConflictError extends HttpError {
  constructor(message: string, details?: unknown) {
    super(409, 'conflict', message, details);
  }
}

export class ServiceUnavailableError extends HttpError {
  constructor(message: string) {
    super(503, 'unavailable', message);
  }
}

/** A rate limit ran out; the caller sets Retry-After. */
export class TooManyRequestsError extends HttpError {
  constructor(message: string) {
    super(429, 'rate_limited', message);
  }
}
