import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './paths.js';

// Where the nodes' CPU went: self time per function and per module, summed over the
// .cpuprofile files `node --cpu-prof` wrote (one per node process).

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  label: string;
  selfMs: number;
  /** Share of the busy time (everything but "(idle)"). */
  percent: number;
}

export interface ProfileSummary {
  files: number;
  busyMs: number;
  idleMs: number;
  functions: SelfTime[];
  modules: SelfTime[];
}

export function summariseProfiles(dir: string, top: number): ProfileSummary {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    profile.samples.forEach((id, i) => {
      const frame = frames.get(id);
      const us = profile.timeDeltas[i] ?? 0;
      if (!frame) return;
      if (frame.functionName === '(idle)') {
        idleUs += us;
        return;
      }
      busyUs += us;
      const where = shortUrl(frame.url);
      const name = frame.functionName || '(anonymous)';
      const fn = where ? `${name}  ${where}:${frame.lineNumber + 1}` : name;
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      const module = moduleOf(frame.url, name);
      byModule.set(module, (byModule.get(module) ?? 0) + us);
    });
  }
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([label, us]) => ({ label, selfMs: us / 1000, percent: busyUs > 0 ? (us / busyUs) * 100 : 0 }));
  return {
    files: files.length,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    functions: rank(byFunction),
    modules: rank(byModule),
  };
}

function shortUrl(url: string): string {
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const inDeps = path.lastIndexOf('/node_modules/');
  if (inDeps >= 0) return path.slice(inDeps + '/node_modules/'.length);
  return path.startsWith(REPO_ROOT) ? path.slice(REPO_ROOT.length) : path;
}

// A package, one of our packages' files, or a node internal module; native frames
// ("(garbage collector)", "(program)") stand for themselves.
function moduleOf(url: string, name: string): string {
  if (!url) return name;
  const path = shortUrl(url);
  if (url.includes('/node_modules/')) {
    const parts = path.split('/');
    return (path.startsWith('@') ? parts.slice(0, 2) : parts.slice(0, 1)).join('/');
  }
  return path;
}
