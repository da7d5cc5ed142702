import { Router } from 'express';
import { z } from 'zod';
import { requireAdmin } from './auth/access-rules';
import { BadRequestError } from './errors';

/** What the route needs of the CacheAuditor. */
export interface CacheAuditRunner {
  auditOnce(sampleSize?: number): Promise<unknown[]>;
}

/** `?sample=N`: ids per namespace for one pass (also the OpenAPI document's query). */
export const cacheAuditQuerySchema = z.object({
  sample: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * `GET /admin/cache-audit?sample=N` (1-1000, default 100): one audit pass over every namespace
 * this service audits, as `{ reports: [{ namespace, checked, sampled, fresh, stale, orphan, ... }] }`.
 * Read-only; it waits out the auditor's grace window when it finds suspects. Admins only: a pass
 * reads the database for every sampled id, and its report names ids. Mount it after `authenticate`.
 */
export function cacheAuditRouter(auditor: CacheAuditRunner): Router {
  const router = Router();
  router.get('/admin/cache-audit', requireAdmin(), async (req, res) => {
    const parsed = cacheAuditQuerySchema.safeParse(req.query);
    if (!parsed.success) throw new BadRequestError('sample must be an integer from 1 to 1000');
    res.json({ reports: await auditor.auditOnce(parsed.data.sample) });
  });
  return router;
}
