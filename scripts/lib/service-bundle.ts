import fs from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { WORKSPACE_ROOT } from './service-process';

/** Where bundles are kept between runs (gitignored): tmp/bundles/<service>/main.js. */
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
 * its inputs changed (size or mtime) since the last build; concurrent builds write to their
 * own file and rename, so a reader never sees a half-written bundle.
 */
export async function bundleService(service: string): Promise<string> {
  const entry = path.join(WORKSPACE_ROOT, 'apps', service, 'src', 'main.ts');
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
  const optionsKey = JSON.stringify(options);
  if (isFresh(outfile, fingerprintFile, optionsKey)) return outfile;

  fs.mkdirSync(outDir, { recursive: true });
  const tmpFile = path.join(outDir, `main.${process.pid}.${Date.now()}.js`);
  const result = await build({
    ...options,
    entryPoints: [entry],
    outfile: tmpFile,
    absWorkingDir: WORKSPACE_ROOT,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs: Record<string, string> = {};
  for (const input of Object.keys(result.metafile.inputs)) inputs[input] = stamp(input);
  // The source map names its bundle; keep it pointing at the final name.
  const map = fs.readFileSync(`${tmpFile}.map`, 'utf8').replace(path.basename(tmpFile), 'main.js');
  const code = fs
    .readFileSync(tmpFile, 'utf8')
    .replace(`//# sourceMappingURL=${path.basename(tmpFile)}.map`, '//# sourceMappingURL=main.js.map');
  fs.writeFileSync(`${tmpFile}.map`, map);
  fs.writeFileSync(tmpFile, code);
  fs.renameSync(`${tmpFile}.map`, `${outfile}.map`);
  fs.renameSync(tmpFile, outfile);
  const fingerprint: BundleFingerprint = { inputs, options: optionsKey };
  const tmpFingerprint = `${fingerprintFile}.${process.pid}`;
  fs.writeFileSync(tmpFingerprint, JSON.stringify(fingerprint));
  fs.renameSync(tmpFingerprint, fingerprintFile);
  return outfile;
}

function isFresh(outfile: string, fingerprintFile: string, optionsKey: string): boolean {
  try {
    if (!fs.existsSync(outfile)) return false;
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
