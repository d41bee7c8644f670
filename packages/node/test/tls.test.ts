import { readFileSync } from 'node:fs';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { encodeFrame, PROTOCOL_VERSION, WEBSOCKET_PATH } from '@meshchat/protocol';
import { describe, expect, it } from 'vitest';
import {
  type CertFiles,
  httpGet,
  type LoggedNode,
  logsOf,
  makeTestCerts,
  startLoggedNode,
  type TestCerts,
  waitForFullMesh,
} from '../../../test/harness/index.js';
import { connectClient, expectChatCarriesOn, onCleanup, RawConnection, startNode, waitFor } from './helpers.js';

const tlsOf = (certs: TestCerts, name: string) => ({ ...certs.node(name), ca: certs.ca });
const tlsAddress = (node: LoggedNode) => `tls://127.0.0.1:${node.clientAddress.port}`;

/** Two nodes in a mesh over mutual TLS, TLS on every listener. */
async function tlsPair(certs: TestCerts): Promise<[LoggedNode, LoggedNode]> {
  const n1 = await startLoggedNode({ nodeId: 'n1', tls: tlsOf(certs, 'n1') });
  const n2 = await startLoggedNode({ nodeId: 'n2', tls: tlsOf(certs, 'n2'), seeds: [n1.peerAddress] });
  await waitForFullMesh([n1, n2]);
  return [n1, n2];
}

/** A TLS server presenting `files`, standing in for a node whose certificate is bad. */
async function fakeTlsNode(files: CertFiles): Promise<string> {
  const server = createTlsServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (s) => s.end());
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise((resolve) => server.close(() => resolve(undefined))));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return `127.0.0.1:${address.port}`;
}

describe('TLS', () => {
  it('carries clients over tls:// and peers over mutual TLS: chat relays across the mesh, welcome lists tls:// servers, /healthz is HTTPS', async () => {
    const certs = makeTestCerts();
    const [n1, n2] = await tlsPair(certs);
    const alice = await connectClient(tlsAddress(n1), 'alice', { tlsCa: certs.caPem });
    const bob = await connectClient(tlsAddress(n2), 'bob', { tlsCa: certs.caPem });
    await alice.client.join('lobby');
    await bob.client.join('lobby');
    await expectChatCarriesOn(alice, bob);
    expect(alice.client.knownServers).toEqual(expect.arrayContaining([tlsAddress(n1), tlsAddress(n2)]));
    expect(alice.client.knownServers.every((s) => s.startsWith('tls://'))).toBe(true);

    // Browsers reach the same listener over wss://, and are told wss:// addresses.
    const browser = await RawConnection.openWebSocket(`wss://${n2.httpAddress}${WEBSOCKET_PATH}`, { ca: certs.caPem });
    browser.sendFrame({ type: 'hello', version: PROTOCOL_VERSION, nick: 'wendy', clientId: 'c-wendy' });
    const welcome = await browser.waitForFrame('welcome');
    expect(welcome.servers.length).toBe(2);
    expect(welcome.servers.every((s) => s.startsWith('wss://'))).toBe(true);

    const health = await httpGet(`https://${n1.httpAddress}/healthz`, { ca: certs.caPem });
    expect(health.status).toBe(200);
    await expect(httpGet(`http://${n1.httpAddress}/healthz`)).rejects.toThrow();
    await waitFor(() => logsOf(n1, 'TLS handshake failed on the http port').length === 1, 'the plain HTTP logged');
  });

  it('closes a plaintext hello on the TLS client port and a plaintext peer_hello on the TLS peer port, with a log line for each', async () => {
    const certs = makeTestCerts();
    const [n1, n2] = await tlsPair(certs);
    const client = await RawConnection.open(n1.address);
    client.sendFrame({ type: 'hello', version: PROTOCOL_VERSION, nick: 'plain', clientId: 'c-plain' });
    await client.waitForClose();
    expect(client.frames).toEqual([]);
    await waitFor(
      () => logsOf(n1, 'TLS handshake failed on the clients port').length === 1,
      'the client port log line',
    );
    expect(logsOf(n1, 'TLS handshake failed on the clients port')[0]?.reason).toContain('plaintext');

    const peer = await RawConnection.open(n1.peerAddress);
    peer.sendBytes(encodeFrame({ type: 'peer_hello', version: PROTOCOL_VERSION, cluster: 'meshchat', nodeId: 'x' }));
    await peer.waitForClose();
    await waitFor(() => logsOf(n1, 'TLS handshake failed on the peers port').length === 1, 'the peer port log line');
    // The mesh and its clients carry on.
    const a = await connectClient(tlsAddress(n1), 'a', { tlsCa: certs.caPem });
    const b = await connectClient(tlsAddress(n2), 'b', { tlsCa: certs.caPem });
    await a.client.join('lobby');
    await b.client.join('lobby');
    await expectChatCarriesOn(a, b);
  });

  it('refuses on the peer port a dialler with a certificate of another CA, self-signed, expired, or none', async () => {
    const certs = makeTestCerts();
    const [n1] = await tlsPair(certs);
    const [host, port] = n1.peerAddress.split(':') as [string, string];
    const cases: [string, CertFiles | undefined][] = [
      ['another CA', certs.otherCa],
      ['self-signed', certs.selfSigned],
      ['expired', certs.expired],
      ['no certificate', undefined],
    ];
    for (const [what, files] of cases) {
      const before = logsOf(n1, 'TLS handshake failed on the peers port').length;
      const socket = tlsConnect({
        host,
        port: Number(port),
        ca: certs.caPem,
        ...(files ? { cert: readFileSync(files.cert), key: readFileSync(files.key) } : {}),
      });
      onCleanup(() => socket.destroy());
      socket.on('error', () => {});
      // TLS 1.3 finishes the client's side before the server checks its certificate:
      // a frame is sent, and the node answers by closing, never with a frame.
      socket.on('secureConnect', () => socket.write(encodeFrame({ type: 'ping', nonce: 1 })));
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      expect(received, what).toEqual([]);
      await waitFor(
        () => logsOf(n1, 'TLS handshake failed on the peers port').length === before + 1,
        `a log line for ${what}`,
      );
    }
  });

  it('a node does not link to a peer, nor a client connect to a node, whose certificate is self-signed, expired or of another CA', async () => {
    const certs = makeTestCerts();
    const bad: [string, CertFiles, RegExp][] = [
      ['self-signed', certs.selfSigned, /SELF_SIGNED/],
      ['expired', certs.expired, /CERT_HAS_EXPIRED/],
      ['another CA', certs.otherCa, /UNABLE_TO_VERIFY|SELF_SIGNED_CERT_IN_CHAIN/],
    ];
    const fakes = await Promise.all(bad.map(([, files]) => fakeTlsNode(files)));
    const node = await startLoggedNode({ nodeId: 'n1', tls: tlsOf(certs, 'n1'), seeds: fakes });
    for (const [i, [what, , reason]] of bad.entries()) {
      await waitFor(
        () => logsOf(node, 'peer TLS handshake failed', { address: fakes[i] }).length > 0,
        `the dial of the ${what} peer refused`,
      );
      expect(logsOf(node, 'peer TLS handshake failed', { address: fakes[i] })[0]?.reason, what).toMatch(reason);
      const client = connectClient(`tls://${fakes[i]}`, 'carol', { tlsCa: certs.caPem });
      await expect(client, what).rejects.toMatchObject({
        code: 'CONNECT_FAILED',
        message: expect.stringMatching(reason),
      });
    }
    expect(node.membership.others()).toEqual([]);
  });

  it('keeps a node whose certificate another CA signed out of the mesh, while the others stay linked', async () => {
    const certs = makeTestCerts();
    const [n1, n2] = await tlsPair(certs);
    const intruder = await startLoggedNode({
      nodeId: 'n3',
      tls: { ...certs.otherCa },
      seeds: [n1.peerAddress, n2.peerAddress],
    });
    await waitFor(() => logsOf(n1, 'TLS handshake failed on the peers port').length > 0, 'n1 to refuse n3');
    await waitFor(() => logsOf(intruder, 'peer TLS handshake failed').length > 0, 'n3 to refuse n1');
    await waitForFullMesh([n1, n2]);
    expect(n1.membership.others().map((m) => m.nodeId)).toEqual(['n2']);
  });

  it('refuses to start with a TLS file it cannot read or a certificate already expired, naming the field', async () => {
    const certs = makeTestCerts();
    await expect(startNode({ tls: { ...certs.node('n1'), ca: '/nonexistent/ca.crt' } })).rejects.toThrow(
      /tls\.ca: cannot read "\/nonexistent\/ca.crt": ENOENT/,
    );
    await expect(startNode({ tls: { ...certs.expired, ca: certs.ca } })).rejects.toThrow(/tls\.cert: .* expired/);
    await expect(
      startNode({ tls: { cert: certs.node('n1').cert, key: certs.node('n2').key, ca: certs.ca } }),
    ).rejects.toThrow(/tls\.key/);
  });
});
