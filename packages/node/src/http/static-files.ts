import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

// The types of the files the web client's build writes; anything else is served as bytes.
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticFile {
  status: 200;
  contentType: string;
  body: Buffer;
}

export type StaticLookup = StaticFile | { status: 400 | 404 | 503; error: string };

/**
 * The files of one directory (the web client's build), by URL path. Nothing outside
 * the directory is ever read: a path that resolves outside it (`..`, encoded or not)
 * is not found, as is a directory or a missing file. Files are read on each request,
 * so a rebuild shows without a restart.
 */
export class StaticFiles {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  async lookup(urlPath: string): Promise<StaticLookup> {
    let path: string;
    try {
      path = decodeURIComponent(urlPath);
    } catch {
      return { status: 400, error: `malformed path ${urlPath}` };
    }
    if (path.includes('\0')) return { status: 400, error: 'a path may not contain NUL' };
    if (path === '/') path = '/index.html';
    const file = resolve(this.root, `.${path}`);
    if (!file.startsWith(this.root + sep)) return { status: 404, error: `no file ${urlPath}` };
    try {
      if (!(await stat(file)).isFile()) return { status: 404, error: `no file ${urlPath}` };
      const body = await readFile(file);
      return { status: 200, contentType: CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', body };
    } catch {
      if (path === '/index.html') {
        return { status: 503, error: `the web client is not built in ${this.root}: run pnpm build` };
      }
      return { status: 404, error: `no file ${urlPath}` };
    }
  }
}
