import express, { type Express, type RequestHandler } from 'express';
import type { ApiContract } from './api-contract';

type Chunk = string | Buffer | Uint8Array;

function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (typeof chunk === 'string') {
    return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  }
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  return undefined;
}

/** The name of the running Jest test, so a violation says which test received the response. */
function currentTestName(): string | undefined {
  const jestExpect = (globalThis as { expect?: { getState?: () => { currentTestName?: string } } }).expect;
  return jestExpect?.getState?.().currentTestName;
}

/**
 * Copies every response's status, headers and body bytes as they are written, and checks them
 * against the contract once the response has finished: what supertest receives is exactly what
 * was checked, and the app under test is not changed.
 */
function recordResponses(contract: ApiContract): RequestHandler {
  return (req, res, next) => {
    const chunks: Buffer[] = [];
    const write = res.write.bind(res) as (...args: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    res.write = ((chunk: Chunk, ...rest: unknown[]) => {
      const buffer = toBuffer(chunk, rest[0]);
      if (buffer) chunks.push(buffer);
      return write(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      const buffer = toBuffer(chunk, rest[0]);
      if (buffer) chunks.push(buffer);
      return end(chunk, ...rest);
    }) as typeof res.end;
    const test = currentTestName();
    res.once('finish', () => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(res.getHeaders())) {
        headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value?.toString();
      }
      contract.check(
        {
          method: req.method,
          url: req.originalUrl,
          status: res.statusCode,
          headers,
          body: req.method === 'HEAD' ? '' : Buffer.concat(chunks).toString('utf8'),
        },
        test,
      );
    });
    next();
  };
}

/** `app` behind a recorder that checks every response it sends against `contract`. */
export function contractCheckedApp(app: Express, contract: ApiContract): Express {
  const checked = express();
  checked.disable('x-powered-by');
  checked.use(recordResponses(contract));
  checked.use(app);
  return checked;
}
