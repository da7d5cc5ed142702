import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { WORKSPACE_ROOT } from './service-process';

/** Where bundles are kept between runs (gitignored): tmp/bundles/<service>/main.js and its worker. */
export const BUNDLE_DIR = path.join(WORKSPACE_ROOT, 'tmp', 'bundles');

interface BundleFingerprint {
  /** workspace-relative path -> size and mtime of every input esbuild read */
  inputs: Record<string, string>;
  options: string;
}

/**
 * The service's entry point bundled the way the Dockerfile's build stage does it (esbuild,
 * workspace code and the generated Prisma client inlined, npm packages left to node_modules),
 * so a stack can run the shipped shape instead of tsx. The bundle is rebuilt only when one of
 * its inputs changed (size or mtime) since the last build; concurrent builds write files of their
 * own and rename them, so a reader never sees a half-written bundle.
 */
export async function bundleService(service: string): Promise<string> {
  const entries = {
    main: path.join(WORKSPACE_ROOT, 'apps', service, 'src', 'main.ts'),
    // service-kit's relay thread runs its own script, beside main.js in the shipped image.
    'outbox-relay-worker': path.join(WORKSPACE_ROOT, 'libs', 'service-kit', 'src', 'outbox-relay-worker.ts'),
  };
  const outDir = path.join(BUNDLE_DIR, service);
  const outfile = path.join(outDir, 'main.js');
  const fingerprintFile = path.join(outDir, 'inputs.json');
  const options = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: true,
    tsconfig: path.join(WORKSPACE_ROOT, 'tsconfig.base.json'),
  } as const;
  const optionsKey = JSON.stringify({ ...options, entries: Object.keys(entries) });
  if (isFresh(outDir, Object.keys(entries), fingerprintFile, optionsKey)) return outfile;

  fs.mkdirSync(outDir, { recursive: true });
  // Built in memory for the final directory (so the source maps' paths are right), each file
  // written under a name of this build's own and renamed into place.
  const result = await build({
    ...options,
    entryPoints: entries,
    outdir: outDir,
    write: false,
    absWorkingDir: WORKSPACE_ROOT,
    metafile: true,
    logLevel: 'silent',
  });
  const suffix = `.${process.pid}.${Date.now()}.tmp`;
  for (const file of result.outputFiles) fs.writeFileSync(`${file.path}${suffix}`, file.contents);
  // The worker first, so a main.js that starts a thread always finds its script.
  const isMain = (file: { path: string }) => Number(path.basename(file.path).startsWith('main.'));
  const ordered = [...result.outputFiles].sort((a, b) => isMain(a) - isMain(b));
  for (const file of ordered) fs.renameSync(`${file.path}${suffix}`, file.path);
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile.inputs)) inputs[input] = stamp(input);
  const fingerprint: BundleFingerprint = { inputs, options: optionsKey };
  const tmpFingerprint = `${fingerprintFile}.${process.pid}`;
  fs.writeFileSync(tmpFingerprint, JSON.stringify(fingerprint));
  fs.renameSync(tmpFingerprint, fingerprintFile);
  return outfile;
}

function isFresh(outDir: string, names: string[], fingerprintFile: string, optionsKey: string): boolean {
  try {
    if (!names.every((name) => fs.existsSync(path.join(outDir, `${name}.js`)))) return false;
    const fingerprint = JSON.parse(fs.readFileSync(fingerprintFile, 'utf8')) as BundleFingerprint;
    if (fingerprint.options !== optionsKey) return false;
    return Object.entries(fingerprint.inputs).every(([input, seen]) => stamp(input) === seen);
  } catch {
    return false;
  }
}

/** Size and mtime of a workspace-relative file; '' when it is gone. */
function stamp(input: string): string {
  try {
    const stat = fs.statSync(path.join(WORKSPACE_ROOT, input));
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return '';
  }
}
