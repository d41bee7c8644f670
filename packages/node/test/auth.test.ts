import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mintToken } from '@meshchat/node';
import { PROTOCOL_VERSION } from '@meshchat/protocol';
import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { logsOf, startLoggedNode, waitForFullMesh } from '../../../test/harness/index.js';
import {
  connectClient,
  expectFatalError,
  framesOf,
  onCleanup,
  RawConnection,
  rawJoin,
  rawSend,
  startNode,
  type TestNode,
  waitFor,
  waitForFrameWhere,
} from './helpers.js';

const SECRET = 'test-token-secret-0123456789-abcdefghij';
const auth = { required: true, hs256Secret: SECRET };
const MINT_CLI = fileURLToPath(new URL('../dist/cli/mint-token-cli.js', import.meta.url));

const tokenFor = (userId: string, nick?: string, ttl: number | string = '1h') =>
  mintToken({ userId, ttl, key: { hs256Secret: SECRET }, ...(nick === undefined ? {} : { nick }) });

/** Says hello with `token` (or none) over a raw connection. */
async function helloWith(node: TestNode, token: string | undefined, nick = 'anyone', clientId = 'device-1') {
  const raw = await RawConnection.open(node.address);
  raw.sendFrame({ type: 'hello', version: PROTOCOL_VERSION, nick, clientId, ...(token ? { token } : {}) });
  return raw;
}

const nowS = () => Math.floor(Date.now() / 1000);

describe('client authentication (auth.required)', () => {
  it('refuses a missing, expired, forged, wrong-key, altered or malformed token each with its code and a log line, and welcomes a good one', async () => {
    const node = await startLoggedNode({ nodeId: 'auth-codes', auth });
    const good = await tokenFor('u-alice', 'alice');
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const altered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'u-bob' })).toString('base64url')}.${signature}`;
    const cases: [string, string | undefined, string][] = [
      ['missing', undefined, 'AUTH_REQUIRED'],
      [
        'expired an hour ago',
        await new SignJWT({ nick: 'alice' })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('u-alice')
          .setExpirationTime(nowS() - 3600)
          .sign(new TextEncoder().encode(SECRET)),
        'TOKEN_EXPIRED',
      ],
      [
        'forged: unsigned (alg none)',
        new UnsecuredJWT({ nick: 'alice' }).setSubject('u-alice').setExpirationTime('1h').encode(),
        'TOKEN_INVALID',
      ],
      [
        'signed with another secret',
        await mintToken({ userId: 'u-alice', ttl: '1h', key: { hs256Secret: 'another-secret-0123456789-abcdefghij' } }),
        'TOKEN_SIGNATURE_INVALID',
      ],
      ['altered after signing', altered, 'TOKEN_SIGNATURE_INVALID'],
      ['not a JWT', 'not-a-token', 'TOKEN_INVALID'],
      [
        'without an expiry',
        await new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('u-alice')
          .sign(new TextEncoder().encode(SECRET)),
        'TOKEN_INVALID',
      ],
    ];
    for (const [what, token, code] of cases) {
      const raw = await helloWith(node, token);
      const error = await expectFatalError(raw, code);
      expect(framesOf(raw, 'welcome'), what).toEqual([]);
      expect(error.message.length, what).toBeGreaterThan(0);
      await waitFor(() => logsOf(node, 'client token refused', { code }).length > 0, `a log line for ${what}`);
    }
    const welcomed = await helloWith(node, good);
    expect(await welcomed.waitForFrame('welcome')).toMatchObject({ clientId: 'u-alice', nick: 'alice' });
  });

  it('accepts EdDSA tokens signed by the configured Ed25519 key (inline PEM or a file) and refuses other keys and algorithms', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const dir = mkdtempSync(join(tmpdir(), 'meshchat-auth-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const pemFile = join(dir, 'issuer.pub.pem');
    writeFileSync(pemFile, publicKey.export({ type: 'spki', format: 'pem' }));
    const inline = await startNode({
      auth: { required: true, ed25519PublicKey: publicKey.export({ type: 'spki', format: 'pem' }) as string },
    });
    const fromFile = await startNode({ auth: { required: true, ed25519PublicKey: pemFile } });
    for (const node of [inline, fromFile]) {
      const good = await mintToken({ userId: 'u-eve', nick: 'eve', ttl: 60, key: { ed25519PrivateKey: privateKey } });
      expect(await (await helloWith(node, good)).waitForFrame('welcome')).toMatchObject({
        clientId: 'u-eve',
        nick: 'eve',
      });
      const otherKey = await mintToken({ userId: 'u-eve', ttl: 60, key: { ed25519PrivateKey: other.privateKey } });
      await expectFatalError(await helloWith(node, otherKey), 'TOKEN_SIGNATURE_INVALID');
      // An HS256 token to a node that knows no HS256 secret: the algorithm is not accepted.
      await expectFatalError(await helloWith(node, await tokenFor('u-eve')), 'TOKEN_INVALID');
    }
  });

  it('binds the session to the token: clientId and nick come from it whatever the hello says, so nobody sends as another user', async () => {
    const node = await startNode({ auth });
    const alice = await helloWith(node, await tokenFor('u-alice', 'alice'), 'mallory', 'u-mallory');
    expect(await alice.waitForFrame('welcome')).toMatchObject({ clientId: 'u-alice', nick: 'alice' });
    // Mallory's hello claims to be alice; the node believes her token.
    const mallory = await helloWith(node, await tokenFor('u-mallory', 'mallory'), 'alice', 'u-alice');
    expect(await mallory.waitForFrame('welcome')).toMatchObject({ clientId: 'u-mallory', nick: 'mallory' });
    await rawJoin(alice, 'lobby');
    await rawJoin(mallory, 'lobby');

    // Dedupe keys on the user id: the same clientMsgId from two users is two messages.
    await rawSend(alice, 'lobby', 'from alice', 'm-1');
    await rawSend(mallory, 'lobby', 'from mallory', 'm-1');
    const seen = await waitForFrameWhere(alice, 'message', (m) => m.text === 'from mallory', 'mallory message');
    expect(seen.from).toEqual({ clientId: 'u-mallory', nick: 'mallory' });
    expect(framesOf(alice, 'message').map((m) => [m.from.clientId, m.text])).toEqual([
      ['u-alice', 'from alice'],
      ['u-mallory', 'from mallory'],
    ]);

    // A DM to alice lands in alice's inbox, the one her token owns.
    mallory.sendFrame({ type: 'dm', to: 'alice', text: 'psst', clientMsgId: 'm-2' });
    const ack = await waitForFrameWhere(mallory, 'ack', (a) => a.clientMsgId === 'm-2', 'the dm acked');
    expect(ack.id.room).toBe('@u-alice');
    expect((await alice.waitForFrame('direct')).from).toEqual({ clientId: 'u-mallory', nick: 'mallory' });

    // Another user's token carrying alice's nick cannot take it while she is here.
    await expectFatalError(await helloWith(node, await tokenFor('u-imposter', 'alice')), 'NICK_TAKEN');
  });

  it('keeps two devices of one user connected side by side: both receive the rooms and DMs, and one leaving keeps the user present', async () => {
    const n1 = await startNode({ nodeId: 'dev-n1', auth });
    const n2 = await startNode({ nodeId: 'dev-n2', auth, seeds: [n1.peerAddress] });
    await waitForFullMesh([n1, n2]);
    const token = await tokenFor('u-alice', 'alice');
    const laptop = await connectClient(n1.address, 'alice', { token, clientId: 'laptop' });
    const phone = await connectClient(n1.address, 'alice', { token, clientId: 'phone' });
    const bob = await connectClient(n2.address, 'bob', { token: await tokenFor('u-bob', 'bob') });
    expect(laptop.client.identity).toEqual({ clientId: 'u-alice', nick: 'alice' });
    expect(phone.client.identity).toEqual({ clientId: 'u-alice', nick: 'alice' });
    for (const c of [laptop, phone, bob]) await c.client.join('lobby');

    await bob.client.send('lobby', 'hello alice');
    await bob.client.dm('alice', 'just for you');
    for (const device of [laptop, phone]) {
      await waitFor(() => device.messages.some((m) => m.text === 'hello alice'), 'each device to get the room message');
      await waitFor(() => device.directs.some((d) => d.text === 'just for you'), 'each device to get the DM');
    }
    await laptop.client.send('lobby', 'from the laptop');
    await waitFor(() => phone.messages.some((m) => m.text === 'from the laptop'), 'the phone to see the laptop');
    await waitFor(async () => (await bob.client.who('lobby')).length === 2, 'bob to see alice and himself');
    expect((await bob.client.who('lobby')).filter((m) => m.clientId === 'u-alice')).toHaveLength(1);

    await phone.client.close();
    // The laptop's next message travels behind any presence change the close caused.
    await laptop.client.send('lobby', 'still here');
    await waitFor(() => bob.messages.some((m) => m.text === 'still here'), 'bob to get the laptop message');
    expect(bob.presence.filter((p) => p.member.clientId === 'u-alice' && p.event === 'left')).toEqual([]);
    expect((await bob.client.who('lobby')).map((m) => m.clientId).sort()).toEqual(['u-alice', 'u-bob']);
    expect(laptop.client.isConnected).toBe(true);
  });

  it('ends a session when its token expires with TOKEN_EXPIRED, and ChatClient stops on a refused token', async () => {
    const node = await startNode({ auth });
    const raw = await helloWith(node, await tokenFor('u-brief', 'brief', 2));
    await raw.waitForFrame('welcome');
    const error = await expectFatalError(raw, 'TOKEN_EXPIRED');
    expect(error.message).toContain('expired');

    const forged = new UnsecuredJWT({}).setSubject('u-x').setExpirationTime('1h').encode();
    await expect(connectClient(node.address, 'x', { token: forged })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(connectClient(node.address, 'y')).rejects.toMatchObject({ code: 'AUTH_REQUIRED' });
  });

  it('a ChatClient given a token function reconnects with a fresh token when its session token expires, keeping its rooms', async () => {
    const node = await startNode({ auth });
    let minted = 0;
    let token = await tokenFor('u-fresh', 'fresh', 2);
    const fresh = await connectClient(node.address, 'fresh', {
      token: () => {
        minted++;
        return token;
      },
    });
    const bob = await connectClient(node.address, 'bob', { token: await tokenFor('u-bob', 'bob') });
    await fresh.client.join('lobby');
    await bob.client.join('lobby');
    // The application's refresh, before the first token runs out.
    token = await tokenFor('u-fresh', 'fresh', '1h');
    const lost: string[] = [];
    fresh.client.on('disconnected', (info) => lost.push(info.reason));
    await waitFor(() => lost.length === 1 && fresh.client.isConnected && minted >= 2, 'a reconnect with a new token');
    expect(lost[0]).toContain('TOKEN_EXPIRED');
    await bob.client.send('lobby', 'after the refresh');
    await waitFor(() => fresh.messages.some((m) => m.text === 'after the refresh'), 'the rejoined room to deliver');
  });

  it('`pnpm run token` mints a token from the config secret that a node with that config accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshchat-token-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const authConfig = { ...auth, issuer: 'meshchat-test', audience: 'chat' };
    const config = join(dir, 'node.json');
    writeFileSync(
      config,
      JSON.stringify({
        nodeId: 'tok',
        clientPort: 0,
        peerPort: 0,
        httpPort: 0,
        dataDir: dir,
        clusterSecret: 'x'.repeat(16),
        auth: authConfig,
      }),
    );
    const { stdout } = await promisify(execFile)(process.execPath, [
      MINT_CLI,
      '--config',
      config,
      '--user',
      'u-carol',
      '--nick',
      'Carol',
      '--ttl',
      '10m',
    ]);
    const node = await startNode({ auth: authConfig });
    const raw = await helloWith(node, stdout.trim());
    expect(await raw.waitForFrame('welcome')).toMatchObject({ clientId: 'u-carol', nick: 'Carol' });
  });
});

describe('without auth (the default)', () => {
  it('ignores a token and takes the identity the hello gives, as before', async () => {
    const node = await startNode();
    const raw = await helloWith(node, 'whatever', 'dora', 'c-dora');
    expect(await raw.waitForFrame('welcome')).toMatchObject({ clientId: 'c-dora', nick: 'dora' });
  });
});
