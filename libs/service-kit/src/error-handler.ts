import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ZodError } from 'zod';
import { isDatabaseUnavailableError } from './database-errors';
import { DomainError, type DomainErrorKind } from './domain-error';
import { HttpError } from './errors';
import { transactionConflictKind } from './transaction-conflicts';

interface ErrorBody {
  status: number;
  code: string;
  message: string;
  details?: unknown;
}

function describeZodError(err: ZodError): ErrorBody {
  const details = err.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const message = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
  return { status: 400, code: 'bad_request', message: message || 'invalid request', details };
}

// Prisma's "the data is wrong" codes, a safety net behind the routes' own validation.
const prismaClientErrors: Record<string, { status: number; code: string; message: string }> = {
  P2000: { status: 400, code: 'bad_request', message: 'a value is too long for its field' },
  P2002: { status: 409, code: 'conflict', message: 'a record with this unique value already exists' },
  P2003: {
    status: 409,
    code: 'conflict',
    message: 'a referenced record does not exist or is still referenced',
  },
  P2020: { status: 400, code: 'bad_request', message: 'a value is out of range' },
  P2023: { status: 400, code: 'bad_request', message: 'a value has the wrong format' },
  P2025: { status: 404, code: 'not_found', message: 'record not found' },
};

/** The one table from a domain outcome to its status, and the body's code when the error names none. */
const domainErrorStatus: Record<DomainErrorKind, { status: number; code: string }> = {
  invalid: { status: 400, code: 'bad_request' },
  not_found: { status: 404, code: 'not_found' },
  conflict: { status: 409, code: 'conflict' },
  unprocessable: { status: 422, code: 'unprocessable' },
  unavailable: { status: 503, code: 'unavailable' },
};

/**
 * The domain error in `err`'s cause chain: the cache wraps what a loader threw, and a
 * dependency error wraps the network error under it, which must not read as "database down".
 */
function findDomainError(err: unknown): DomainError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e instanceof DomainError) return e;
  }
  return undefined;
}

function describeDomainError(err: DomainError): ErrorBody {
  const { status, code } = domainErrorStatus[err.kind];
  return { status, code: err.code ?? code, message: err.message, details: err.details };
}

/** Maps any thrown value to the status the contract promises: 4xx for the caller, 503, or 500 (a bug). */
export function describeError(err: unknown): ErrorBody {
  if (err instanceof HttpError) {
    return { status: err.status, code: err.code, message: err.message, details: err.details };
  }
  const domain = findDomainError(err);
  if (domain) return describeDomainError(domain);
  if (err instanceof ZodError) return describeZodError(err);
  const e = err as {
    type?: unknown;
    status?: unknown;
    expose?: unknown;
    message?: unknown;
    code?: unknown;
    name?: unknown;
  };
  // body-parser errors (express.json)
  if (e?.type === 'entity.too.large') {
    return { status: 413, code: 'payload_too_large', message: 'request body is too large' };
  }
  if (e?.type === 'entity.parse.failed') {
    return { status: 400, code: 'bad_request', message: 'request body is not valid JSON' };
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
    return {
      status: e.status,
      code: 'bad_request',
      message: e.expose && typeof e.message === 'string' ? e.message : 'bad request',
    };
  }
  if (isDatabaseUnavailableError(err)) {
    return {
      status: 503,
      code: 'database_unavailable',
      message: 'the database is unavailable, try again later',
    };
  }
  const conflict = transactionConflictKind(err);
  if (conflict === 'retryable') {
    return {
      status: 503,
      code: 'transaction_conflict',
      message: 'the change collided with concurrent changes of the same rows, try again',
    };
  }
  if (conflict === 'busy') {
    return {
      status: 503,
      code: 'database_busy',
      message: 'the rows this request needs stayed locked by other changes, try again',
    };
  }
  if (
    e?.name === 'PrismaClientKnownRequestError' &&
    typeof e.code === 'string' &&
    prismaClientErrors[e.code]
  ) {
    return { ...prismaClientErrors[e.code]! };
  }
  if (isDataException(err)) {
    return {
      status: 400,
      code: 'bad_request',
      message: 'a value cannot be stored (invalid character or out of range)',
    };
  }
  return { status: 500, code: 'internal', message: 'internal error' };
}

/**
 * Postgres class 22 "data exception" (NUL in text, value too long, out of range, bad syntax): the
 * request's data, not the server, is at fault. Validation should catch these first; this keeps a
 * case it missed from being a 500. Prisma with a driver adapter nests the code in
 * `meta.driverAdapterError.cause.originalCode`; pg errors carry it as `code`.
 */
function isDataException(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; current && typeof current === 'object' && depth < 6; depth += 1) {
    const e = current as {
      code?: unknown;
      originalCode?: unknown;
      cause?: unknown;
      meta?: { driverAdapterError?: { cause?: unknown } };
    };
    for (const code of [e.originalCode, e.code]) {
      if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) return true;
    }
    current = e.meta?.driverAdapterError?.cause ?? e.cause;
  }
  return false;
}

/** Last middleware: logs 5xx (with the error) and answers JSON. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const body = describeError(err);
    if (body.status >= 500) {
      const level = body.status === 503 ? 'warn' : 'error';
      logger[level]({ err, method: req.method, url: req.originalUrl, status: body.status }, 'request failed');
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { status, ...error } = body;
    res.status(status).json({ error });
  };
}

/** After every router: an unknown path is a 404, not Express's HTML page. */
export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } });
  };
}
