import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Where this install keeps the web client's build: the dist/ of the @meshchat/web
 * package beside this one (written by `pnpm build`).
 */
export function defaultWebRoot(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@meshchat/web/package.json')), 'dist');
}
