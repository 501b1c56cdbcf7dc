// ESLint (flat config) with typescript-eslint's recommended rules, run by `npm run lint` inside `npm test`.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'bench/out/', 'node_modules/', '.cache/', 'downloads/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Unused names are TypeScript's to report (noUnusedLocals); an `_` prefix marks a deliberate one.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-empty': ['error', { allowEmptyCatch: true }],
      eqeqeq: ['error', 'smart'],
      // A logger or handler may read a variable that is assigned once, later: that one stays `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Sanitising names and terminal output is about control characters: matching them is the point.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['media/**/*.js'],
    languageOptions: { globals: { ...globals.browser, acquireVsCodeApi: 'readonly' } },
  },
  {
    files: ['test/**/*.ts'],
    languageOptions: { globals: { ...globals.mocha } },
  },
);
