// Lint: typescript-eslint's type-aware recommended rules plus a few that catch real bugs, over every TypeScript
// file tsconfig.json type-checks (a .ts file outside it fails to parse: add its directory to tsconfig's include).
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['node_modules/', 'cdk.out/', 'dist/', 'coverage/', 'bench/results/']),
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: './tsconfig.json', tsconfigRootDir: dirname(fileURLToPath(import.meta.url)) },
    },
    rules: {
      // Promises: every one awaited, returned, or `void`ed with a comment naming who handles its rejection.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/only-throw-error': 'error',
      // A promise returned from inside try/catch must be awaited there, or the catch never sees its rejection.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],

      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          // `const { secret: _s, ...safe } = x` drops a field on purpose.
          ignoreRestSiblings: true,
        },
      ],
      // As the code writes them: `import { a, type B }` when mixed, `import type { B }` when every name is a type.
      // `typeof import('…')` stays allowed: it types a lazy require(), which has no other spelling.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],

      // `async` without `await` is how a function turns a throw into a rejection and implements a Promise-returning port.
      '@typescript-eslint/require-await': 'off',

      // `x == null` is the one loose comparison kept: null or undefined.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },

  {
    files: ['test/**/*.ts'],
    rules: {
      // Jest's asymmetric matchers (expect.any, expect.stringMatching) and parsed XML fixtures are typed `any`.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Test harnesses hand clocks and ports around as bound values and check mocks by reference.
      '@typescript-eslint/unbound-method': 'off',
      // A focused test silently turns the rest of its file off in CI.
      'no-restricted-properties': [
        'error',
        { object: 'describe', property: 'only', message: 'Focused tests skip the rest of the file.' },
        { object: 'it', property: 'only', message: 'Focused tests skip the rest of the file.' },
        { object: 'test', property: 'only', message: 'Focused tests skip the rest of the file.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fit', message: 'Focused tests skip the rest of the file.' },
        { name: 'fdescribe', message: 'Focused tests skip the rest of the file.' },
      ],
    },
  },

  {
    // The few plain-JavaScript files (jest config, the bin shim, this file): no type information.
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
  },
  {
    files: ['**/*.js'],
    // CommonJS under Node: the module wrapper's names and process (no 'globals' package needed for four names).
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly' } },
  },
);
