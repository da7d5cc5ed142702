import { createLogger, loadConfig, redactConfig, setupTracing, startService } from '@memshop/service-kit';
import { orderConfigSchema } from './config';
import { createOrderService } from './order-service';

async function main(): Promise<void> {
  const config = loadConfig(orderConfigSchema);
  const tracing = setupTracing({
    serviceName: 'order',
    serviceInstanceId: config.SERVICE_INSTANCE_ID,
    exporter: config.OTEL_TRACES_EXPORTER,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  });
  const logger = createLogger({ service: 'order', level: config.LOG_LEVEL });
  logger.info({ config: redactConfig(config) }, 'starting');

  const service = createOrderService(config, { logger });
  await service.start();
  await startService({
    app: service.app,
    port: config.PORT,
    logger,
    closers: [...service.closers, { name: 'tracing', close: () => tracing.shutdown() }],
  });
}

main().catch((err: unknown) => {
  console.error('order failed to start:', err);
  process.exit(1);
});
