// The README's library example runs as written and prints what the README says.
import { test, expect } from 'vitest';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

test('the quick-start example prints the output shown in the README', () => {
  const readme = readFileSync(root + 'README.md', 'utf8');
  const at = readme.indexOf('<!-- example:quickstart');
  const code = /```js\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
  const shown = /It prints:\n\n```\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
  // Inside the package, so `import ... from 'memwalk'` resolves to this package (self-reference).
  mkdirSync(root + 'build/examples', { recursive: true });
  const file = root + 'build/examples/quickstart.mjs';
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(shown);
});

test('every internal link of the README points at a heading', () => {
  const readme = readFileSync(root + 'README.md', 'utf8').replace(/```[\s\S]*?```/g, '');
  // GitHub's anchors: lower case, punctuation dropped (but - and _), spaces to hyphens.
  const slug = (h: string) => h.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
  const anchors = new Set([...readme.matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]!)));
  const links = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
  expect(links.length).toBeGreaterThan(5);
  expect(links.filter((l) => !anchors.has(l))).toEqual([]);
});
