import { exitWithParent, generatorSpec, type IdleSpec, report } from './ipc.js';
import { RawClient } from './raw-client.js';

// Idle connections for the memory scenario: `clients` raw clients on one node, each
// says hello and then only pings, often enough that the node's idle timeout never
// drops it. Stays connected until the bench kills it.

const PING_SLICES = 20;

async function main(): Promise<void> {
  exitWithParent();
  const spec = generatorSpec<IdleSpec>();
  const clients: RawClient[] = [];
  let failed = 0;
  let firstError: string | undefined;
  let nextIndex = 0;
  // A fixed number of connects in flight, so the node's listen backlog never overflows.
  const connectNext = async (): Promise<void> => {
    while (nextIndex < spec.clients) {
      const index = nextIndex++;
      try {
        const client = await RawClient.connect(spec.server);
        await client.hello(`idle${index}`, `idle-${process.pid}-${index}`);
        clients.push(client);
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, connectNext));
  // Pings spread over the interval: one slice of the clients at a time.
  let slice = 0;
  setInterval(() => {
    for (let i = slice; i < clients.length; i += PING_SLICES) clients[i]?.ping();
    slice = (slice + 1) % PING_SLICES;
  }, spec.pingEveryMs / PING_SLICES);
  // The ping timer and the sockets keep this process alive until the bench ends it.
  await report({ type: 'connected', connected: clients.length, failed, ...(firstError ? { firstError } : {}) });
}

main().catch(async (err: unknown) => {
  await report({ type: 'failed', message: `idle clients: ${err instanceof Error ? err.message : String(err)}` });
  process.exit(1);
});
