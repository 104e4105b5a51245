// Proves that eslint.config.js applies the boundary, hooks and type-aware rules
// to src/: a probe that breaks each of them, linted as the text of an existing
// file of the search feature (the type-aware parser only knows files of the
// project; the file itself is not read or changed), must be refused by every
// one of them. Run by dev.d/test/40-frontend-unit.sh after `npm run lint`.
import { ESLint } from 'eslint';

const probe = `
import { useEffect, useState } from 'react';
import { usePlayerStore } from '@/features/player';
export function useProbe(on: boolean, id: string) {
  if (on) useState(0);
  useEffect(() => console.log(id), []);
  Promise.resolve(1);
  return usePlayerStore;
}
`;
const expected = [
  '@typescript-eslint/no-floating-promises',
  'cadenza/feature-boundaries',
  'react-hooks/exhaustive-deps',
  'react-hooks/rules-of-hooks',
];

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });
const [result] = await eslint.lintText(probe, { filePath: 'src/features/search/index.ts' });
const found = [...new Set((result?.messages ?? []).map((m) => m.ruleId ?? `fatal: ${m.message}`))].sort();
if (found.join(' ') !== expected.join(' ')) {
  console.error(`lint self-check FAILED: the probe was reported as [${found.join(', ')}], expected [${expected.join(', ')}]`);
  process.exit(1);
}
console.log(`lint self-check: the probe was refused by ${expected.join(', ')}`);
