import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import nx from '@nx/eslint-plugin';

/**
 * Apps build on libs, never on each other; libs never reach into apps; libs/cache is copied
 * into other repositories, so it may import nothing of this one.
 */
function moduleBoundaries(allow = []) {
  return {
    allow,
    enforceBuildableLibDependency: false,
    // A lib's tests import it by its package name, as its users do.
    allowCircularSelfDependency: true,
    depConstraints: [
      { sourceTag: 'scope:cache', onlyDependOnLibsWithTags: ['scope:cache'] },
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
      { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib', 'type:app'] },
    ],
  };
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/generated/**', 'reports/**', '.nx/**', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries()] },
  },
  {
    // Suites and the bench drive the services' own modules and the stack script by path.
    files: ['tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries(['^(\\.\\./)+(apps|libs|scripts)/'])],
    },
  },
  {
    // The lib's own tests may start servers with the repo's test kit; its source may not.
    files: ['libs/cache/**/*.test.ts', 'libs/cache/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries(['^@memshop/testing'])] },
  },
  {
    // Component fixtures start their neighbours with the stack script, as a developer would.
    files: ['apps/*/src/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', moduleBoundaries(['^(\\.\\./)+scripts/'])] },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
);
