// Signed-up users for the masto tests (not a test file itself): each through masto's REST client, as an app does it —
// register an app, take an app token (client credentials), create the account, and use the token that answers.
import assert from 'node:assert/strict';
import { createRestAPIClient } from 'masto';

export const LENTA_URL = (process.env.LENTA_URL ?? 'http://127.0.0.1:18090').replace(/\/+$/, '');
const run = Date.now();
let serial = 0;

/** A new user: masto's REST client on their token, their account id, username, token and the streaming origin. */
export async function signUp(prefix = 'ms') {
  const anon = createRestAPIClient({ url: LENTA_URL });
  const app = await anon.v1.apps.create({ clientName: 'masto-test', redirectUris: 'urn:ietf:wg:oauth:2.0:oob', scopes: 'read write follow' });
  const res = await fetch(`${LENTA_URL}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: app.clientId, client_secret: app.clientSecret, scope: 'read write follow' }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  const appToken = (await res.json()).access_token;
  const name = `${prefix}_${run}_${++serial}`;
  const token = await createRestAPIClient({ url: LENTA_URL, accessToken: appToken }).v1.accounts.create({
    username: name, email: `${name}@example.test`, password: `pw-${run}-Secret!`, agreement: true, locale: 'en',
  });
  const rest = createRestAPIClient({ url: LENTA_URL, accessToken: token.accessToken });
  const me = await rest.v1.accounts.verifyCredentials();
  const instance = await rest.v2.instance.fetch();
  return { rest, id: me.id, username: name, token: token.accessToken, streamingUrl: instance.configuration.urls.streaming };
}

/** Polls `probe` until `done` holds of its answer (fan-out and notifications are jobs), failing after `ms`. */
export async function eventually(probe, done, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await probe();
    if (done(last)) return last;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms; last: ${JSON.stringify(last).slice(0, 500)}`);
    await new Promise(r => setTimeout(r, 200));
  }
}
