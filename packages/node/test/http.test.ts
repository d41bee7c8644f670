// The HTTP listener serves the web client's files from its web root (issue 7): the
// right content types, nothing outside the root whatever the path says, 404s for what
// is not there, and the JSON routes as before.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onCleanup, startNode, type TestNode } from './helpers.js';

/** A web root with a page, a script, styles and a folder, beside a file that must stay private. */
function webRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshchat-web-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'secret.txt'), 'not for the web');
  const root = join(dir, 'root');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>meshchat</title>');
  writeFileSync(join(root, 'app.js'), 'console.log("hi");');
  writeFileSync(join(root, 'style.css'), 'body { margin: 0 }');
  writeFileSync(join(root, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return root;
}

/** A GET with the path sent exactly as given (fetch would normalise `..` away). */
function get(node: TestNode, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const [host, port] = node.httpAddress.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the web client files on the HTTP port', () => {
  it('serves the page at / and its files with their content types', async () => {
    const node = await startNode({ webRoot: webRoot() });
    const page = await get(node, '/');
    expect(page).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(page.body).toContain('<title>meshchat</title>');
    expect(await get(node, '/index.html')).toMatchObject({ status: 200, type: 'text/html; charset=utf-8' });
    expect(await get(node, '/app.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(await get(node, '/style.css')).toMatchObject({ status: 200, type: 'text/css; charset=utf-8' });
    expect(await get(node, '/assets/logo.svg?v=1')).toMatchObject({ status: 200, type: 'image/svg+xml' });
  });

  it('answers 404 for a missing file or a folder, and the JSON routes as before', async () => {
    const node = await startNode({ webRoot: webRoot() });
    expect(await get(node, '/nope.js')).toMatchObject({ status: 404, type: 'application/json' });
    expect(await get(node, '/assets')).toMatchObject({ status: 404 });
    expect(await get(node, '/assets/')).toMatchObject({ status: 404 });
    const health = await get(node, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok', nodeId: node.nodeId });
    expect(await get(node, '/', 'POST')).toMatchObject({ status: 405 });
  });

  it.each([
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/..%2fsecret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..\\secret.txt',
  ])('refuses a path outside the web root: %s', async (path) => {
    const node = await startNode({ webRoot: webRoot() });
    const answer = await get(node, path);
    expect(answer.status).toBe(404);
    expect(answer.body).not.toContain('not for the web');
  });

  it('refuses a path with a NUL or a broken escape with 400', async () => {
    const node = await startNode({ webRoot: webRoot() });
    expect(await get(node, '/index.html%00.js')).toMatchObject({ status: 400 });
    expect(await get(node, '/%E0%A4%A')).toMatchObject({ status: 400 });
  });

  it('says the web client is not built when its root is empty', async () => {
    const node = await startNode({ webRoot: mkdtempSync(join(tmpdir(), 'meshchat-empty-')) });
    const page = await get(node, '/');
    expect(page.status).toBe(503);
    expect(JSON.parse(page.body).error).toMatch(/not built.*pnpm build/);
  });
});
