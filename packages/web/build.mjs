// Builds the web client into dist/: the page and its styles as they are, and the app
// bundled with the browser build of @meshchat/client (ChatClient over WebSocket).
// Run by the root `pnpm build` after `tsc -b`, which typechecks src/ (esbuild does not).
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));

// zod exports every language's error messages as a namespace, which the bundle would
// carry whole (about half of it). The client reads schema errors in English only, the
// language zod sets itself up with, so the namespace is left empty.
const withoutZodLocales = {
  name: 'without-zod-locales',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'empty' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {}', loader: 'js' }));
  },
};
const dist = join(here, 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: join(dist, 'app.js'),
  bundle: true,
  format: 'esm',
  // A browser build: an import of a Node module (net, fs, os...) fails the build
  // instead of reaching the page.
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  plugins: [withoutZodLocales],
});
for (const file of ['index.html', 'style.css']) await copyFile(join(here, 'static', file), join(dist, file));
console.log(`web client built in ${dist}`);
