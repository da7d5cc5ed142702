import type { z } from 'zod';
import { loadConfig, redactConfig, type serviceEnvShape } from './config';
import type { ServiceHandle } from './service-handle';
import { setupTracing } from './tracing';

type ServiceConfig = z.infer<z.ZodObject<typeof serviceEnvShape>> & { PORT: number; ADMIN_PORT: number };

export interface RunServiceOptions<C extends ServiceConfig> {
  service: string;
  /** The service's config schema (serviceEnvShape and its own variables). */
  configSchema: z.ZodType<C>;
  /** The service's composition root, e.g. createCatalogService. */
  create: (config: C) => ServiceHandle;
}

/**
 * What every main.ts does: the config from the env (exit 1 naming each bad variable), tracing,
 * the composition root, start, then serve until SIGTERM/SIGINT, tracing closed last so it sees
 * the final spans. A failed start exits 1.
 */
export function runService<C extends ServiceConfig>({
  service,
  configSchema,
  create,
}: RunServiceOptions<C>): void {
  const main = async () => {
    const config = loadConfig(configSchema);
    const tracing = setupTracing({
      serviceName: service,
      serviceInstanceId: config.SERVICE_INSTANCE_ID,
      exporter: config.OTEL_TRACES_EXPORTER,
      otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    });
    const handle = create(config);
    handle.logger.info({ config: redactConfig(config) }, 'starting');
    await handle.start();
    await handle.listen({
      port: config.PORT,
      adminPort: config.ADMIN_PORT,
      closers: [{ name: 'tracing', close: () => tracing.shutdown() }],
    });
  };
  main().catch((err: unknown) => {
    console.error(`${service} failed to start:`, err);
    process.exit(1);
  });
}
