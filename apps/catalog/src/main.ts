import { runService } from '@memshop/service-kit';
import { createCatalogService } from './catalog';
import { catalogConfigSchema } from './config';

runService({ service: 'catalog', configSchema: catalogConfigSchema, create: createCatalogService });
