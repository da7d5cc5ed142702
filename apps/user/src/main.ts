import { runService } from '@memshop/service-kit';
import { createUserService } from './user';
import { userConfigSchema } from './config';

runService({ service: 'user', configSchema: userConfigSchema, create: createUserService });
