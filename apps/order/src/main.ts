import { runService } from '@memshop/service-kit';
import { createOrderService } from './order';
import { orderConfigSchema } from './config';

runService({ service: 'order', configSchema: orderConfigSchema, create: createOrderService });
