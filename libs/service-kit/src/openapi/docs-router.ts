import { Router, static as serveStatic } from 'express';
// The package's main module also loads Swagger UI's browser bundle into the process (about 10 MB
// of heap, 18-40 MB of RSS, and more for every full GC to mark); only its folder is needed here.
import getAbsoluteFSPath from 'swagger-ui-dist/absolute-path';
import type { ApiDocument } from './api-document';

/**
 * The page is Swagger UI's own bundle served from node_modules (no CDN: the services run where
 * the internet may be unreachable), started by a script file rather than an inline script so a
 * strict Content-Security-Policy can be added without exceptions.
 */
const page = (title: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${title}</title>
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" />
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

// validatorUrl null: the default sends the document to an online validator and shows its badge.
const init = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: true,
});
`;

/** `GET /openapi.json` (the service's document) and `GET /docs` (a page to read and try it). */
export function apiDocsRouter(document: ApiDocument): Router {
  const router = Router();
  const title = `${document.info.title} API`;
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(page(title));
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('js').send(init);
  });
  router.use('/docs/assets', serveStatic(getAbsoluteFSPath(), { index: false }));
  return router;
}
