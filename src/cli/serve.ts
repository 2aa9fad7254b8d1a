// `resnext serve [--port N]`: the explorer page (dist/web, built by `npm run build`) over HTTP, on
// 127.0.0.1 only, with the cross-origin-isolation headers that shared-memory wasm threads need.
// Only GET and HEAD of regular files inside that folder; anything else is 404 (or 405, 400).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { guarded, parseNonNegativeInt, UsageError } from './util';

/** Where the built page lives (dist/web beside dist/src). */
export const WEB_ROOT = resolve(__dirname, '..', '..', 'web');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.gz': 'application/gzip',
};

/** The file a URL path names inside `root`, or null when it is outside, malformed or not a file. */
export function resolveStatic(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0].split('#')[0]);
  } catch {
    return null;
  }
  if (path.includes('\0') || !path.startsWith('/')) return null;
  const file = resolve(root, `.${path.endsWith('/') ? `${path}index.html` : path}`);
  if (file !== root && !file.startsWith(root + sep)) return null;
  if (!existsSync(file) || !statSync(file).isFile()) return null;
  return file;
}

/** Registers the serve command. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the explorer page (summaries, grouped convolutions) on http://127.0.0.1:<port>/')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', '8080')
    .action(
      guarded('serve', async (o: { port: string }) => {
        const port = parseNonNegativeInt('--port', o.port);
        if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
        if (!existsSync(join(WEB_ROOT, 'index.html'))) {
          throw new UsageError(`the page is not built (${WEB_ROOT} has no index.html): run npm run build`);
        }
        const server = createServer((req, res) => {
          const common = {
            'Cross-Origin-Opener-Policy': 'same-origin',
            'Cross-Origin-Embedder-Policy': 'require-corp',
            'Cross-Origin-Resource-Policy': 'same-origin',
            'X-Content-Type-Options': 'nosniff',
            'Cache-Control': 'no-cache',
          };
          if (req.method !== 'GET' && req.method !== 'HEAD') {
            res
              .writeHead(405, { ...common, Allow: 'GET, HEAD', 'Content-Type': 'text/plain' })
              .end('method not allowed\n');
            return;
          }
          const file = resolveStatic(WEB_ROOT, req.url ?? '/');
          if (!file) {
            res.writeHead(404, { ...common, 'Content-Type': 'text/plain' }).end('not found\n');
            return;
          }
          res.writeHead(200, {
            ...common,
            'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
            'Content-Length': statSync(file).size,
          });
          if (req.method === 'HEAD') res.end();
          else createReadStream(file).pipe(res);
        });
        await new Promise<void>((done, fail) => {
          server.once('error', (e: NodeJS.ErrnoException) =>
            fail(
              e.code === 'EADDRINUSE'
                ? new UsageError(`port ${port} is in use on 127.0.0.1; pass --port N (0: any free port)`)
                : e,
            ),
          );
          server.listen(port, '127.0.0.1', () => done());
        });
        const address = server.address();
        const actual = typeof address === 'object' && address ? address.port : port;
        process.stdout.write(`serving the explorer at http://127.0.0.1:${actual}/ (Ctrl-C to stop)\n`);
        await new Promise<void>((done) => process.once('SIGINT', () => server.close(() => done())));
      }),
    );
}
