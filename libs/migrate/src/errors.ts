import type { ErrorRegistry } from '@prisma/driver-adapter-utils';
import { lastEnginePanic } from './wasm-engine';

/**
 * A failure the user can act on: a bad argument, an unreachable database, a migration that does
 * not apply. `code` is Prisma's error code when the schema engine gave one (P3009, P3018, ...),
 * so the message can be looked up in Prisma's error reference.
 */
export class MigrateError extends Error {
  override readonly name = 'MigrateError';
  readonly code: string | undefined;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
  }
}

/**
 * The wasm engine throws `Error`s whose message ends in a Rust span trace
 * ("   0: schema_engine_wasm::wasm::engine::Diff\n at ...engine.rs:242"): useful to Prisma's
 * developers, noise to ours. Keep the message, drop the trace, keep the code.
 */
export function engineErrorToMigrateError(
  error: unknown,
  command: string,
  errorRegistry?: ErrorRegistry,
): MigrateError {
  if (error instanceof MigrateError) return error;
  if (!(error instanceof Error))
    return new MigrateError(`${command} failed: ${String(error)}`, { cause: error });
  // A JS error thrown inside our adapter reaches the engine only as "External error id#N"; the
  // error itself waits in the adapter's registry.
  const externalId = /External error id#(\d+)/.exec(error.message)?.[1];
  const external =
    externalId === undefined ? undefined : errorRegistry?.consumeError(Number(externalId))?.error;
  if (external instanceof Error) {
    const message = error.message.split('\n')[0] ?? '';
    return new MigrateError(`${command} failed: ${message}: ${external.message}`, { cause: external });
  }
  const rawCode: unknown = (error as Error & { code?: unknown }).code;
  const code = typeof rawCode === 'string' ? rawCode : undefined;
  const message = error.message.split(/\n\s+0: /)[0]?.trim() || error.message;
  if (error.name === 'RuntimeError') {
    const panic = lastEnginePanic();
    return new MigrateError(`${command} failed: the Prisma schema engine crashed (${panic || message})`, {
      cause: error,
    });
  }
  // A migration that fails on the database surfaces as a bare connector error; the migration's
  // name is only in the span trace.
  const migrationName = /migration_name="([^"]+)"/.exec(error.message)?.[1];
  const subject = migrationName && !message.includes(migrationName) ? `: migration ${migrationName}` : '';
  return new MigrateError(`${command} failed${code ? ` (${code})` : ''}${subject}: ${message}`, {
    code,
    cause: error,
  });
}
