/**
 * Runs of the same code with one of the services' latency features turned off, for comparison
 * on the same machine. Each adds its env to every service and a suffix to the result files,
 * which are not committed.
 */
export interface BenchVariant {
  flag: string;
  /** Shown in the run's title. */
  label: string;
  fileSuffix: string;
  env: Record<string, string>;
}

export const BENCH_VARIANTS: readonly BenchVariant[] = [
  {
    flag: '--publish-after-commit',
    label: 'publish after commit',
    fileSuffix: '.after-commit',
    env: { OUTBOX_PUBLISH_AT_COMMIT: 'false' },
  },
  {
    flag: '--no-early-purge',
    label: 'no early purge',
    fileSuffix: '.no-early-purge',
    env: { INVALIDATION_EARLY_PURGE: 'false' },
  },
  {
    flag: '--no-copy-purge',
    label: 'no copy purge',
    fileSuffix: '.no-copy-purge',
    env: { INVALIDATION_PRODUCT_COPIES: '', INVALIDATION_USER_COPIES: '' },
  },
];

/** The variants named on the command line, combined. */
export function selectedVariants(argv: readonly string[]): {
  label: string;
  fileSuffix: string;
  env: Record<string, string>;
} {
  const chosen = BENCH_VARIANTS.filter((v) => argv.includes(v.flag));
  return {
    label: chosen.map((v) => `, ${v.label}`).join(''),
    fileSuffix: chosen.map((v) => v.fileSuffix).join(''),
    env: Object.assign({}, ...chosen.map((v) => v.env)) as Record<string, string>,
  };
}
