import type { InvalidationBus } from '@memshop/cache';
import type { ServiceHandle } from '@memshop/service-kit';
import type { TestInfrastructure } from '@memshop/testing';

/**
 * Starts a service built by its composition root (stopped when `infra` closes) and waits for its
 * bus. Returns the ids of the events its own handlers have finished: the handler added here runs
 * after them (a bus runs its handlers in order), so an id in the set means "this event is done".
 */
export async function startConsuming(
  infra: TestInfrastructure,
  service: ServiceHandle & { bus: InvalidationBus },
  name: string,
): Promise<Set<string>> {
  infra.cleanup.add(() => service.stop());
  const consumedEventIds = new Set<string>();
  service.bus.subscribe(async (event) => {
    consumedEventIds.add(event.id);
  });
  await service.start();
  if (!(await service.bus.waitUntilConnected(10_000))) throw new Error(`${name}: RabbitMQ did not connect`);
  return consumedEventIds;
}
