// `npm run explore`: build the explorer page and serve it on localhost.
// Usage: node scripts/explore.mjs [--port N] [--out DIR]   (--port 0: any free port)
// With --build-only it builds the folder and exits (open its index.html, or host it).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { buildBrowser } from './browser-build.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const { explorer, sizes } = await buildBrowser(args.includes('--out') ? { out: option('--out') } : {});
if (args.includes('--build-only')) {
  process.stdout.write(`explorer built in ${explorer} (explorer.js: ${sizes['explorer.js'].bytes} bytes)\n`);
  process.exit(0);
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
  const file = join(explorer, path === '/' ? 'index.html' : path);
  if (!file.startsWith(explorer)) return void res.writeHead(403).end();
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
});
server.listen(Number(option('--port', '8080')), '127.0.0.1', () => {
  process.stdout.write(`memwalk explorer: http://127.0.0.1:${server.address().port}/  (Ctrl-C to stop)\n`);
});
