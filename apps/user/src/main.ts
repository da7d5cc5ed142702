import { loadConfig, redactConfig, setupTracing } from '@memshop/service-kit';
import { createUserService } from './user';
import { userConfigSchema } from './config';

async function main(): Promise<void> {
  const config = loadConfig(userConfigSchema);
  const tracing = setupTracing({
    serviceName: 'user',
    serviceInstanceId: config.SERVICE_INSTANCE_ID,
    exporter: config.OTEL_TRACES_EXPORTER,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const service = createUserService(config);
  service.logger.info({ config: redactConfig(config) }, 'starting');
  await service.start();
  await service.listen({
    port: config.PORT,
    adminPort: config.ADMIN_PORT,
    closers: [{ name: 'tracing', close: () => tracing.shutdown() }],
  });
}

main().catch((err: unknown) => {
  console.error('user-service failed to start:', err);
  process.exit(1);
});
