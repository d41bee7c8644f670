import { createServer } from 'node:net';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { onCleanup, waitFor } from '../../../test/harness/index.js';
import { Mesh } from '../src/cluster/mesh.js';

/** A listener that counts the connections made to it and closes each at once. */
async function countingListener(): Promise<{ address: string; dials: () => number }> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(resolve)));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('listener has no port');
  return { address: `127.0.0.1:${address.port}`, dials: () => count };
}

describe('Mesh dialling', () => {
  // Found by the failover suite: after SIGCONT of a node its peers held dead, the
  // other two took up to DEAD_PEER_RETRY_MS (5 s) to link to it again although it had
  // refuted and both held it alive: the slow pace set when it was declared dead
  // outlived the verdict.
  it('dials a member declared dead and then alive again (it refuted) at the next maintain, not at the dead-peer pace', async () => {
    const peer = await countingListener();
    const logs: { msg: string }[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
    const failedDials = () => logs.filter((l) => l.msg === 'peer dial failed').length;
    let isDead = false;
    const mesh = new Mesh({
      identity: {
        cluster: 'test',
        clusterSecret: 'test-cluster-secret-0123456789',
        hello: () => ({
          cluster: 'test',
          nodeId: 'n1',
          incarnation: 1,
          peerAddress: '127.0.0.1:1',
          clientAddress: '127.0.0.1:2',
          httpAddress: '127.0.0.1:3',
        }),
      },
      seeds: [],
      wantedPeers: () => new Map([['n2', { address: peer.address, isDead }]]),
      handlers: { onLinkUp: () => {}, onLinkDown: () => {}, onFrame: () => {} },
      // Backoff delays of 0: a live member is redialled at the next maintain.
      random: () => 0,
      log,
    });
    onCleanup(() => mesh.close());

    mesh.maintain(Date.now());
    await waitFor(() => failedDials() === 1, 'the first dial to fail');
    expect(peer.dials()).toBe(1);

    isDead = true;
    mesh.maintain(Date.now());
    isDead = false;
    mesh.maintain(Date.now());
    await waitFor(() => peer.dials() === 2, 'a dial of the member alive again');
  });
});
