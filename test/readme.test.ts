// The pages a user reads hold together: every link lands, every file they cite is in
// the repository, concepts are named for what they are, and the README stays short.
// (The examples on these pages are run by test/package.test.ts.)
import { describe, test, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join, normalize } from 'node:path';
import { ROOT, blocksOf, docFiles, examplesOf } from './helpers/doc-blocks.js';

const read = (doc: string) => readFileSync(join(ROOT, doc), 'utf8');
/** The page without its code blocks: links and citations are prose. */
const prose = (doc: string) => read(doc).replace(/^\s*```[\s\S]*?^\s*```/gm, '');
// GitHub's anchors: lower case, punctuation dropped (but - and _), spaces to hyphens.
const slug = (h: string) => h.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
const anchorsOf = (doc: string) => new Set([...prose(doc).matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]!)));

describe.each(docFiles())('%s', (doc) => {
  test('every link points at a file of the repository, and at a heading of it', () => {
    const bad: string[] = [];
    for (const [, target] of prose(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue; // https:, mailto:
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const file = path ? normalize(join(dirname(doc), path)) : doc;
      if (!existsSync(join(ROOT, file))) bad.push(`${target}: no file ${file}`);
      else if (anchor !== undefined && !anchorsOf(file).has(anchor)) bad.push(`${target}: no heading #${anchor} in ${file}`);
    }
    expect(bad).toEqual([]);
  });

  test('every file it cites is in the repository', () => {
    const cited = new Set<string>();
    for (const [, p] of prose(doc).matchAll(/`((?:src|test|assembly|bench|scripts|docs)\/[\w./-]+)`/g)) cited.add(p!);
    // A page named in the text (not a file name in code, such as a report a command writes).
    for (const [, p] of prose(doc).replace(/`[^`]*`/g, '').matchAll(/([\w./-]*[\w-]+\.md)\b/g)) cited.add(p!);
    // What the build makes and git ignores is not cited as part of the repository.
    const ignored = readFileSync(join(ROOT, '.gitignore'), 'utf8').split('\n').filter((l) => l.endsWith('/')).map((l) => l.replace(/^\//, ''));
    const missing = [...cited].filter((p) => !ignored.some((i) => p.startsWith(i))).filter((p) => {
      if (p.endsWith('.md') && !p.includes('/')) return !existsSync(join(ROOT, p)) && !existsSync(join(ROOT, 'docs', p)) && !existsSync(join(ROOT, dirname(doc), p));
      return !existsSync(join(ROOT, p)) && !existsSync(join(ROOT, dirname(doc), p));
    });
    expect(missing).toEqual([]);
  });

  test('names concepts for what they are, not for the history of the project', () => {
    const text = read(doc);
    const history = [...text.matchAll(/\b(?:issue|seed|thread)[ -]?#?\d+\b|issue2|\bseed's\b/gi)].map((m) => m[0]);
    expect(history).toEqual([]);
  });

  test('its code blocks are closed, and each says what it is', () => {
    const blocks = blocksOf(doc);
    expect((read(doc).match(/^\s*```/gm) ?? []).length % 2).toBe(0);
    const unlabelled = blocks.filter((b) => b.lang === '').map((b) => `${doc}:${b.line}`);
    expect(unlabelled).toEqual([]);
  });
});

test('the README is a short page: what memwalk is, install, the two commands, an example, the CLI, links', () => {
  const readme = read('README.md');
  expect(readme.split('\n').length).toBeLessThanOrEqual(300);
  expect(readme).toContain('npm install && npm start');
  expect(readme).toContain('npm install && npm test');
  expect(examplesOf('README.md').some((e) => e.prints !== undefined)).toBe(true);
  // Every command of the CLI has its line in the README's table and its section in docs/cli.md.
  const help = spawnSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), '--help'], { encoding: 'utf8' }).stdout;
  const commands = [...help.matchAll(/^  ([a-z0-9-]+) /gm)].map((m) => m[1]!).filter((c) => c !== 'help');
  expect(commands.length).toBeGreaterThan(5);
  const cli = read('docs/cli.md');
  for (const c of commands) {
    expect(readme, `README's table has memwalk ${c}`).toMatch(new RegExp(`^\\| \\[?\`memwalk ${c}\``, 'm'));
    expect(cli, `docs/cli.md has a section on memwalk ${c}`).toMatch(new RegExp(`^## \`memwalk ${c}\``, 'm'));
  }
  for (const page of docFiles().filter((d) => d !== 'README.md')) {
    expect(readme, `README links ${page}`).toContain(`](${page})`);
  }
});
