import { loadConfig, redactConfig, setupTracing } from '@memshop/service-kit';
import { createOrderService } from './order';
import { orderConfigSchema } from './config';

async function main(): Promise<void> {
  const config = loadConfig(orderConfigSchema);
  const tracing = setupTracing({
    serviceName: 'order',
    serviceInstanceId: config.SERVICE_INSTANCE_ID,
    exporter: config.OTEL_TRACES_EXPORTER,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const service = createOrderService(config);
  service.logger.info({ config: redactConfig(config) }, 'starting');
  await service.start();
  await service.listen({
    port: config.PORT,
    adminPort: config.ADMIN_PORT,
    closers: [{ name: 'tracing', close: () => tracing.shutdown() }],
  });
}

main().catch((err: unknown) => {
  console.error('order failed to start:', err);
  process.exit(1);
});
