// Drives Lenta's streaming API (docs.joinmastodon.org/methods/streaming) with masto, a Mastodon client library from
// npm whose streaming client is a WebSocket at /api/v1/streaming with the token as its subprotocol: a followed
// account's post, a like and a delete reach `streaming.user.subscribe()` each within a second; a private post never
// reaches a non-follower. Start it with tests/clients/run.sh (or set LENTA_URL to a running server); masto 8 needs
// Node 22 (run.sh puts one on PATH).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createStreamingAPIClient } from 'masto';
import { signUp } from './masto-users.mjs';

const SECOND = 1000;

const closers = [];
after(() => {
  for (const close of closers) close();
});

/**
 * `streaming.user.subscribe()` read into a queue, so a test can wait for the next event that matches, with a deadline.
 * Ready once the user's own post has come back through it (the server has the subscription by then).
 */
async function userStream(user) {
  const streaming = createStreamingAPIClient({ streamingApiUrl: user.streamingUrl, accessToken: user.token, retry: false });
  const subscription = streaming.user.subscribe();
  const seen = [];
  let wake = () => {};
  let failure;
  (async () => {
    try {
      for await (const event of subscription) {
        seen.push({ event, at: performance.now() });
        wake();
      }
    } catch (e) {
      failure = e;
      wake();
    }
  })();
  const stream = {
    seen,
    /** The first event (taken off the queue) that matches, or a failure after `ms`. */
    async next(match, ms, what) {
      const deadline = performance.now() + ms;
      for (;;) {
        const i = seen.findIndex(s => match(s.event));
        if (i >= 0) return seen.splice(i, 1)[0];
        if (failure) throw failure;
        const left = deadline - performance.now();
        if (left <= 0) assert.fail(`${what}: nothing within ${ms} ms; got ${JSON.stringify(seen.map(s => s.event.event))}`);
        await new Promise(resolve => {
          const timer = setTimeout(resolve, left);
          wake = () => { clearTimeout(timer); resolve(); };
        });
      }
    },
    close() {
      subscription.unsubscribe();
      streaming.close();
    },
  };
  closers.push(() => stream.close());
  // Readiness: masto subscribes once the socket is open; the user's own post comes back once the server has it.
  const deadline = performance.now() + 10 * SECOND;
  for (;;) {
    const probe = await user.rest.v1.statuses.create({ status: 'ready?', visibility: 'private' });
    try {
      await stream.next(e => e.event === 'update' && e.payload.id === probe.id, 500, 'own post');
      break;
    } catch (e) {
      if (performance.now() > deadline) throw e;
    }
  }
  return stream;
}

/** Runs `act` and waits for the matching event; returns it with the milliseconds from the call to its arrival. */
async function timed(stream, act, match, what) {
  const start = performance.now();
  const result = await act();
  const got = await stream.next(e => match(e, result), 5 * SECOND, what);
  return { event: got.event, result, ms: got.at - start };
}

test('a followed account\'s post, a like and a delete reach streaming.user each within a second', { timeout: 60_000 }, async t => {
  const alice = await signUp();
  const bob = await signUp();
  await alice.rest.v1.accounts.$select(bob.id).follow();
  const stream = await userStream(alice);

  const post = await timed(stream, () => bob.rest.v1.statuses.create({ status: 'hello followers', visibility: 'public' }),
    (e, s) => e.event === 'update' && e.payload.id === s.id, 'update of bob\'s post');
  assert.ok(post.ms < SECOND, `update took ${post.ms.toFixed(0)} ms`);
  assert.deepEqual(post.event.stream, ['user']);
  assert.equal(post.event.payload.account.id, bob.id);
  assert.equal(post.event.payload.content.includes('hello followers'), true, post.event.payload.content);

  const mine = await alice.rest.v1.statuses.create({ status: 'like me', visibility: 'public' });
  await stream.next(e => e.event === 'update' && e.payload.id === mine.id, 5 * SECOND, 'alice\'s own post');
  const like = await timed(stream, () => bob.rest.v1.statuses.$select(mine.id).favourite(),
    e => e.event === 'notification' && e.payload.type === 'favourite', 'favourite notification');
  assert.ok(like.ms < SECOND, `the like's notification took ${like.ms.toFixed(0)} ms`);
  assert.equal(like.event.payload.account.id, bob.id);
  assert.equal(like.event.payload.status.id, mine.id);

  const gone = await timed(stream, () => bob.rest.v1.statuses.$select(post.result.id).remove(),
    e => e.event === 'delete' && e.payload === post.result.id, 'delete of bob\'s post');
  assert.ok(gone.ms < SECOND, `delete took ${gone.ms.toFixed(0)} ms`);
  t.diagnostic(`update ${post.ms.toFixed(0)} ms, like's notification ${like.ms.toFixed(0)} ms, delete ${gone.ms.toFixed(0)} ms`);
});

test('a private post reaches a follower\'s user stream and never a non-follower\'s', { timeout: 60_000 }, async () => {
  const author = await signUp();
  const follower = await signUp();
  const stranger = await signUp();
  await follower.rest.v1.accounts.$select(author.id).follow();
  const followerStream = await userStream(follower);
  const strangerStream = await userStream(stranger);

  const secret = await author.rest.v1.statuses.create({ status: 'followers only', visibility: 'private' });
  const got = await followerStream.next(e => e.event === 'update' && e.payload.id === secret.id, 5 * SECOND, 'the follower\'s copy');
  assert.equal(got.event.payload.visibility, 'private');

  // The stranger's own later post comes through their stream after anything published before it.
  const later = await stranger.rest.v1.statuses.create({ status: 'after the secret', visibility: 'public' });
  await strangerStream.next(e => e.event === 'update' && e.payload.id === later.id, 5 * SECOND, 'the stranger\'s own post');
  assert.equal(strangerStream.seen.some(s => s.event.payload?.id === secret.id || s.event.payload === secret.id), false,
    'the private post reached a non-follower');
});

test('a raw WebSocket with the token as its subprotocol is accepted and the token echoed', { timeout: 30_000 }, async () => {
  const user = await signUp();
  const url = new URL('/api/v1/streaming', user.streamingUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(url, [user.token]);
  closers.push(() => ws.close());
  await new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve, { once: true });
    ws.addEventListener('error', () => reject(new Error('the upgrade was refused')), { once: true });
  });
  assert.equal(ws.protocol, user.token, 'the chosen subprotocol is the token (browsers abort otherwise)');

  const frames = [];
  ws.addEventListener('message', m => frames.push(JSON.parse(m.data)));
  ws.send(JSON.stringify({ type: 'subscribe', stream: 'user' }));
  const deadline = performance.now() + 10 * SECOND;
  let id;
  while (performance.now() < deadline) {
    const s = await user.rest.v1.statuses.create({ status: 'over a raw socket', visibility: 'public' });
    await new Promise(r => setTimeout(r, 300));
    const frame = frames.find(f => f.event === 'update' && JSON.parse(f.payload).id === s.id);
    if (frame) {
      assert.deepEqual(frame.stream, ['user']);
      id = s.id;
      break;
    }
  }
  assert.ok(id, `no update frame arrived; frames: ${JSON.stringify(frames)}`);

  // A bad token in the subprotocol is refused before any upgrade.
  const bad = new WebSocket(url, ['not-a-token']);
  const outcome = await new Promise(resolve => {
    bad.addEventListener('open', () => resolve('open'), { once: true });
    bad.addEventListener('error', () => resolve('refused'), { once: true });
  });
  assert.equal(outcome, 'refused');
});
