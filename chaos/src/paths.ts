import { fileURLToPath } from 'node:url';

// Resolved from this file's place in chaos/dist, so `pnpm chaos` runs from any directory.
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
