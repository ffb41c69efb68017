// Drives a running Lenta server with megalodon, a Mastodon client library from npm: app registration,
// sign-up, password and authorization-code logins, profile calls, the start-up calls that answer empty,
// token revocation, notifications and markers, direct posts and conversations. Start it with tests/clients/run.sh (or set LENTA_URL to a running server).
//
// The steps share state and run in order (node:test runs a file's top-level tests one after another);
// a step whose input an earlier failed step should have produced is skipped rather than failing twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import generator, { detector } from 'megalodon';

const LENTA_URL = (process.env.LENTA_URL ?? 'http://127.0.0.1:18090').replace(/\/+$/, '');
const OOB = 'urn:ietf:wg:oauth:2.0:oob';
const SCOPES = ['read', 'write', 'follow'];

const run = Date.now();
const username = `mg_${run}`;
const email = `${username}@example.test`;
const password = `pw-${run}-Secret!`;

/** What the steps hand on to each other. */
const state = {};

function need(t, ...keys) {
  const missing = keys.filter(k => state[k] === undefined);
  if (missing.length > 0) {
    t.skip(`an earlier step did not produce ${missing.join(', ')}`);
    return false;
  }
  return true;
}

/** Awaits a megalodon call that must fail and returns the axios error's response. */
async function rejectsWithStatus(promise, status) {
  try {
    const res = await promise;
    assert.fail(`expected HTTP ${status}, got ${res.status} ${JSON.stringify(res.data)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    assert.ok(err.response, `expected an HTTP ${status} answer, got ${err}`);
    assert.equal(err.response.status, status, `HTTP ${err.response.status}: ${JSON.stringify(err.response.data)}`);
    return err.response;
  }
}

/** POST /oauth/token with a JSON body (megalodon has no helper for client_credentials or password). */
async function tokenRequest(body) {
  const res = await fetch(`${LENTA_URL}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `POST /oauth/token ${body.grant_type} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

function assertToken(token, scope) {
  assert.equal(typeof token.access_token, 'string');
  assert.ok(token.access_token.length >= 20, 'access_token looks too short');
  assert.equal(token.token_type, 'Bearer');
  assert.equal(token.scope, scope);
  assert.equal(typeof token.created_at, 'number', 'Token.created_at is Unix seconds (an integer)');
  assert.ok(Math.abs(token.created_at - Date.now() / 1000) < 600, `created_at ${token.created_at} is not now`);
}

// ---- a tiny browser: cookies and HTML forms ------------------------------------------------------

class CookieJar {
  #cookies = new Map();
  store(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some(a => /^\s*max-age\s*=\s*0\s*$/i.test(a)) ||
        attrs.some(a => /^\s*expires\s*=/i.test(a) && Date.parse(a.split('=').slice(1).join('=')) < Date.now());
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
  get header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  get size() {
    return this.#cookies.size;
  }
}

function decodeHtml(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|amp|lt|gt|quot|apos);/gi, (_, e) => {
    const lower = e.toLowerCase();
    if (lower.startsWith('#x')) return String.fromCodePoint(parseInt(lower.slice(2), 16));
    if (lower.startsWith('#')) return String.fromCodePoint(parseInt(lower.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[lower];
  });
}

function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i'));
  return m ? decodeHtml(m[1] ?? m[2] ?? m[3]) : undefined;
}

/** The first <form> of a page: its action, method, hidden inputs and the names of its other fields. */
function parseForm(html) {
  const m = html.match(/<form\b[^>]*>([\s\S]*?)<\/form>/i);
  assert.ok(m, `no <form> in the page:\n${html}`);
  const formTag = m[0].slice(0, m[0].indexOf('>') + 1);
  const hidden = new URLSearchParams();
  const fields = [];
  for (const input of m[1].match(/<input\b[^>]*>/gi) ?? []) {
    const name = attr(input, 'name');
    if (name === undefined) continue;
    if ((attr(input, 'type') ?? 'text').toLowerCase() === 'hidden') hidden.append(name, attr(input, 'value') ?? '');
    else fields.push(name);
  }
  const buttons = [...m[1].matchAll(/<button\b[^>]*>/gi)].map(b => ({ name: attr(b[0], 'name'), value: attr(b[0], 'value') }));
  return { action: attr(formTag, 'action') ?? '', method: (attr(formTag, 'method') ?? 'get').toLowerCase(), hidden, fields, buttons };
}

async function browse(jar, url, init = {}) {
  const res = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers ?? {}), Accept: 'text/html', ...(jar.size ? { Cookie: jar.header } : {}) },
  });
  jar.store(res);
  return { res, body: await res.text() };
}

async function submit(jar, pageUrl, form, extra) {
  assert.equal(form.method, 'post');
  const body = new URLSearchParams(form.hidden);
  for (const [k, v] of Object.entries(extra)) body.append(k, v);
  return browse(jar, new URL(form.action || pageUrl, pageUrl).href, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: body.toString(),
  });
}

// ---- the steps -------------------------------------------------------------------------------

test('registerApp returns client credentials and an authorize URL on this server', async () => {
  const client = generator('mastodon', LENTA_URL);
  const app = await client.registerApp('megalodon-test', { scopes: SCOPES, redirect_uris: OOB });

  assert.equal(typeof app.id, 'string');
  assert.equal(app.name, 'megalodon-test');
  assert.equal(typeof app.client_id, 'string');
  assert.ok(app.client_id.length >= 10, `client_id ${app.client_id}`);
  assert.equal(typeof app.client_secret, 'string');
  assert.ok(app.client_secret.length >= 20, 'client_secret looks too short');
  // megalodon builds its authorize URL from the deprecated `redirect_uri` key: it must be there.
  assert.equal(app.redirect_uri, OOB);

  assert.equal(typeof app.url, 'string', 'megalodon computed no authorize URL');
  const url = new URL(app.url);
  assert.equal(`${url.origin}${url.pathname}`, `${LENTA_URL}/oauth/authorize`);
  assert.equal(url.searchParams.get('client_id'), app.client_id);
  assert.equal(url.searchParams.get('response_type'), 'code');
  assert.equal(url.searchParams.get('redirect_uri'), OOB);
  assert.equal(url.searchParams.get('scope'), 'read write follow');

  state.app = app;
});

test('the app gets an app token with client_credentials and verifies it', async t => {
  if (!need(t, 'app')) return;
  const token = await tokenRequest({
    grant_type: 'client_credentials',
    client_id: state.app.client_id,
    client_secret: state.app.client_secret,
    scope: 'read write follow',
  });
  assertToken(token, 'read write follow');

  const res = await generator('mastodon', LENTA_URL, token.access_token).verifyAppCredentials();
  assert.equal(res.status, 200);
  assert.equal(res.data.name, 'megalodon-test');

  state.appToken = token.access_token;
});

test('registerAccount signs up a new user with the app token', async t => {
  if (!need(t, 'appToken')) return;
  const client = generator('mastodon', LENTA_URL, state.appToken);
  const res = await client.registerAccount(username, email, password, true, 'en');
  assert.equal(res.status, 200);
  assertToken(res.data, 'read write follow');

  // The sign-up token is a user token of the new account (Lenta asks for no e-mail confirmation).
  const me = await generator('mastodon', LENTA_URL, res.data.access_token).verifyAccountCredentials();
  assert.equal(me.data.username, username);

  // Signing up the same username again is refused with Mastodon's 422 + details.
  const again = await rejectsWithStatus(client.registerAccount(username, `other_${email}`, password, true, 'en'), 422);
  assert.match(again.data.error, /^Validation failed: /);
  assert.equal(again.data.details?.username?.[0]?.error, 'ERR_TAKEN');
});

test('the sign-up token carries the app\'s scopes, not the app token\'s', async t => {
  if (!need(t, 'app')) return;
  // Mastodon's AppSignUpService gives the new user a token with the application's registered scopes
  // (here read write follow), whatever the scope of the app token that made the call.
  const narrow = await tokenRequest({
    grant_type: 'client_credentials',
    client_id: state.app.client_id,
    client_secret: state.app.client_secret,
    scope: 'write',
  });
  assertToken(narrow, 'write');
  const res = await generator('mastodon', LENTA_URL, narrow.access_token)
    .registerAccount(`${username}_w`, `w_${email}`, password, true, 'en');
  assert.equal(res.status, 200);
  assert.equal(res.data.scope, 'read write follow');
  const me = await generator('mastodon', LENTA_URL, res.data.access_token).verifyAccountCredentials();
  assert.equal(me.data.username, `${username}_w`);
});

test('the password grant logs the user in', async t => {
  if (!need(t, 'app')) return;
  const token = await tokenRequest({
    grant_type: 'password',
    username: email,
    password,
    client_id: state.app.client_id,
    client_secret: state.app.client_secret,
    scope: 'read write follow',
  });
  assertToken(token, 'read write follow');
  state.userToken = token.access_token;
  state.user = generator('mastodon', LENTA_URL, state.userToken);
});

test('verifyAccountCredentials returns the CredentialAccount', async t => {
  if (!need(t, 'user')) return;
  const res = await state.user.verifyAccountCredentials();
  assert.equal(res.status, 200);
  const me = res.data;
  assert.equal(typeof me.id, 'string');
  assert.equal(me.username, username);
  assert.equal(me.acct, username);
  assert.equal(me.display_name, '');
  assert.equal(me.locked, false);
  assert.equal(me.bot, false);
  assert.equal(me.followers_count, 0);
  assert.equal(me.following_count, 0);
  assert.equal(me.statuses_count, 0);
  assert.ok(Array.isArray(me.emojis) && Array.isArray(me.fields));
  for (const k of ['url', 'avatar', 'avatar_static', 'header', 'header_static']) assert.equal(typeof me[k], 'string', k);
  assert.ok(me.source, 'CredentialAccount has source');
  assert.equal(me.source.privacy, 'public');
  assert.equal(me.source.sensitive, false);
  assert.equal(me.source.note, '');
  state.me = me;
});

test('updateCredentials sets display name, note (escaped to HTML) and locked', async t => {
  if (!need(t, 'user', 'me')) return;
  const res = await state.user.updateCredentials({
    display_name: 'Megalodon Tester',
    note: 'a <b> & c',
    locked: true,
  });
  assert.equal(res.status, 200);
  const me = res.data;
  assert.equal(me.id, state.me.id);
  assert.equal(me.display_name, 'Megalodon Tester');
  assert.equal(me.note, '<p>a &lt;b&gt; &amp; c</p>');
  assert.equal(me.locked, true);
  assert.equal(me.source?.note, 'a <b> & c', 'source.note keeps the plain text');

  const again = await state.user.verifyAccountCredentials();
  assert.equal(again.data.display_name, 'Megalodon Tester');
  assert.equal(again.data.note, '<p>a &lt;b&gt; &amp; c</p>');
  assert.equal(again.data.locked, true);
});

test('getAccount returns the public Account', async t => {
  if (!need(t, 'user', 'me')) return;
  const res = await state.user.getAccount(state.me.id);
  assert.equal(res.status, 200);
  assert.equal(res.data.id, state.me.id);
  assert.equal(res.data.username, username);
  assert.equal(res.data.acct, username);
  assert.equal(res.data.display_name, 'Megalodon Tester');
  assert.equal(res.data.note, '<p>a &lt;b&gt; &amp; c</p>');
  assert.equal(res.data.locked, true);
  assert.equal(res.data.source, undefined, 'a plain Account has no source');

  // Anonymous callers may read profiles too; an unknown id is a 404.
  const anon = await generator('mastodon', LENTA_URL).getAccount(state.me.id);
  assert.equal(anon.data.username, username);
  await rejectsWithStatus(state.user.getAccount('999999999999999999'), 404);
});

test('lookupAccount finds the account by username', async t => {
  if (!need(t, 'user', 'me')) return;
  const res = await state.user.lookupAccount(username);
  assert.equal(res.status, 200);
  assert.equal(res.data.id, state.me.id);
  assert.equal(res.data.acct, username);
  await rejectsWithStatus(state.user.lookupAccount(`nobody_${run}`), 404);
});

test('detector() recognises the server as Mastodon-compatible (nodeinfo)', async () => {
  // megalodon reads /.well-known/nodeinfo → nodeinfo 2.0/2.1 and accepts software.name "mastodon" (or a
  // few known forks), or metadata.upstream.name "mastodon"; anything else is "Unknown SNS".
  assert.equal(await detector(LENTA_URL), 'mastodon');
});

test('getInstance (v1) publishes the configuration', async () => {
  const res = await generator('mastodon', LENTA_URL).getInstance();
  assert.equal(res.status, 200);
  const i = res.data;
  assert.equal(typeof i.uri, 'string');
  assert.equal(typeof i.title, 'string');
  assert.match(i.version, /^\d+\.\d+\.\d+/, 'clients parse a leading semver');
  assert.equal(typeof i.urls, 'object');
  assert.equal(i.configuration?.statuses?.max_characters, 500);
});

test('start-up calls answer empty: notifications, lists, filters, preferences', async t => {
  if (!need(t, 'user')) return;
  const notifications = await state.user.getNotifications();
  assert.equal(notifications.status, 200);
  assert.deepEqual(notifications.data, []);

  const lists = await state.user.getLists();
  assert.equal(lists.status, 200);
  assert.deepEqual(lists.data, []);

  const filters = await state.user.getFilters();
  assert.equal(filters.status, 200);
  assert.deepEqual(filters.data, []);

  const prefs = await state.user.getPreferences();
  assert.equal(prefs.status, 200);
  assert.equal(prefs.data['posting:default:visibility'], 'public');
  assert.equal(prefs.data['posting:default:sensitive'], false);
  assert.ok(['default', 'show_all', 'hide_all'].includes(prefs.data['reading:expand:media']));
  assert.equal(prefs.data['reading:expand:spoilers'], false);
});

test('everyday status actions: bookmark, pin, edit and its source', async t => {
  if (!need(t, 'user')) return;
  const posted = await state.user.postStatus('megalodon was here');
  assert.equal(posted.status, 200);
  const id = posted.data.id;

  assert.equal((await state.user.bookmarkStatus(id)).data.bookmarked, true);
  const bookmarks = await state.user.getBookmarks();
  assert.equal(bookmarks.status, 200);
  assert.deepEqual(bookmarks.data.map(s => s.id), [id]);
  assert.equal((await state.user.unbookmarkStatus(id)).data.bookmarked, false);

  assert.equal((await state.user.pinStatus(id)).data.pinned, true);
  assert.equal((await state.user.unpinStatus(id)).data.pinned, false);

  const edited = await state.user.editStatus(id, { status: 'megalodon edited this' });
  assert.equal(edited.status, 200);
  assert.match(edited.data.content, /megalodon edited this/);
  const source = await state.user.getStatusSource(id);
  assert.equal(source.data.id, id);
  assert.equal(source.data.text, 'megalodon edited this');
  assert.equal(source.data.spoiler_text, '');

  assert.equal((await state.user.deleteStatus(id)).status, 200);
});

test('hashtags and search: tag timeline, tag, follow, followed tags, statuses and hashtags search', async t => {
  if (!need(t, 'user')) return;
  const tag = `mega${Date.now().toString(36)}`;
  const word = `needle${Date.now().toString(36)}`;
  const posted = await state.user.postStatus(`Looking for a ${word} in #${tag.toUpperCase()}`);
  assert.equal(posted.status, 200);
  const id = posted.data.id;
  assert.deepEqual(posted.data.tags.map(x => x.name), [tag]);

  const timeline = await state.user.getTagTimeline(tag, { limit: 5 });
  assert.equal(timeline.status, 200);
  assert.deepEqual(timeline.data.map(s => s.id), [id]);

  const shown = await state.user.getTag(tag);
  assert.equal(shown.data.name, tag);
  assert.equal(shown.data.following, false);
  assert.equal((await state.user.followTag(tag)).data.following, true);
  assert.deepEqual((await state.user.getFollowedTags()).data.map(x => x.name), [tag]);
  assert.equal((await state.user.unfollowTag(tag)).data.following, false);

  const statuses = await state.user.search(word, { type: 'statuses' });
  assert.equal(statuses.status, 200);
  assert.deepEqual(statuses.data.statuses.map(s => s.id), [id]);
  const hashtags = await state.user.search(`#${tag.slice(0, -1)}`, { type: 'hashtags' });
  assert.deepEqual(hashtags.data.hashtags.map(x => x.name), [tag]);

  assert.equal((await state.user.deleteStatus(id)).status, 200);
  assert.deepEqual((await state.user.getTagTimeline(tag)).data, []);
});

test('authorization_code with OOB: browser sign-in and consent yield a code', async t => {
  if (!need(t, 'app', 'me')) return;
  const jar = new CookieJar();
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: state.app.client_id,
    redirect_uri: OOB,
    scope: 'read',
  });
  const authorizeUrl = `${LENTA_URL}/oauth/authorize?${query}`;

  // 1. The sign-in page.
  let page = await browse(jar, authorizeUrl);
  assert.equal(page.res.status, 200, page.body);
  assert.match(page.res.headers.get('content-type') ?? '', /^text\/html/);
  let form = parseForm(page.body);
  assert.ok(form.fields.includes('email') && form.fields.includes('password'), `login form fields: ${form.fields}`);
  assert.ok(form.hidden.get('__RequestVerificationToken'), 'the form carries an antiforgery token');
  assert.equal(form.hidden.get('client_id'), state.app.client_id);

  // 2. Sign in → the consent page.
  page = await submit(jar, authorizeUrl, form, { email, password });
  assert.equal(page.res.status, 200, page.body);
  assert.ok(page.body.includes(`@${username}`), 'consent page names the signed-in user');
  form = parseForm(page.body);
  assert.ok(form.buttons.some(b => b.name === 'decision' && b.value === 'approve'), 'consent form has an approve button');
  assert.ok(form.hidden.get('__RequestVerificationToken'));

  // 3. Approve → a 302 carrying the code. Where it points is checked in the next step; the code is
  //    taken from the Location whatever it is, so that the token exchange is tested on its own.
  page = await submit(jar, authorizeUrl, form, { decision: 'approve' });
  assert.equal(page.res.status, 302, page.body);
  const location = page.res.headers.get('location');
  assert.ok(location, 'the 302 has a Location');
  const code = new URL(location, authorizeUrl).searchParams.get('code');
  assert.ok(code, `no code in ${location}`);

  state.code = code;
  state.codeLocation = location;
  state.jar = jar;
});

test('authorization_code with OOB: the approve redirect goes to /oauth/authorize/native, which shows the code', async t => {
  if (!need(t, 'code', 'codeLocation', 'jar')) return;
  // Mastodon (Doorkeeper) sends an OOB app's browser to its own page that shows the code:
  // 302 Location: /oauth/authorize/native?code=… (a browser cannot open urn:ietf:wg:oauth:2.0:oob?code=…).
  const location = new URL(state.codeLocation, `${LENTA_URL}/oauth/authorize`);
  assert.equal(`${location.protocol}//${location.host}${location.pathname}`, `${LENTA_URL}/oauth/authorize/native`,
    `approve redirected to ${state.codeLocation}`);
  const shown = await browse(state.jar, location.href);
  assert.equal(shown.res.status, 200);
  assert.ok(shown.body.includes(state.code), 'the OOB page shows the code');
});

test('authorization_code with OOB: fetchAccessToken trades the code for a working token', async t => {
  if (!need(t, 'app', 'me', 'code')) return;
  const client = generator('mastodon', LENTA_URL);
  const token = await client.fetchAccessToken(state.app.client_id, state.app.client_secret, state.code, OOB);
  assertToken(token, 'read');
  const me = await generator('mastodon', LENTA_URL, token.access_token).verifyAccountCredentials();
  assert.equal(me.status, 200);
  assert.equal(me.data.id, state.me.id);
  assert.equal(me.data.username, username);
  state.codeToken = token.access_token;

  // Codes are single use.
  const reused = await rejectsWithStatus(client.fetchAccessToken(state.app.client_id, state.app.client_secret, state.code, OOB), 400);
  assert.equal(reused.data.error, 'invalid_grant');
});

test('revokeToken revokes the token: verifyAccountCredentials then answers 401', async t => {
  if (!need(t, 'app', 'codeToken', 'userToken')) return;
  const client = generator('mastodon', LENTA_URL);
  const res = await client.revokeToken(state.app.client_id, state.app.client_secret, state.codeToken);
  assert.equal(res.status, 200);
  assert.deepEqual(res.data, {});

  const revoked = generator('mastodon', LENTA_URL, state.codeToken);
  const err = await rejectsWithStatus(revoked.verifyAccountCredentials(), 401);
  assert.equal(typeof err.data.error, 'string');

  // Another app cannot revoke this user's tokens.
  const other = await generator('mastodon', LENTA_URL).registerApp('megalodon-other', { scopes: ['read'], redirect_uris: OOB });
  const refused = await rejectsWithStatus(client.revokeToken(other.client_id, other.client_secret, state.userToken), 403);
  assert.equal(refused.data.error, 'unauthorized_client');

  // Revoking is idempotent, and the user's other tokens keep working.
  const again = await client.revokeToken(state.app.client_id, state.app.client_secret, state.codeToken);
  assert.equal(again.status, 200);
  const still = await state.user.verifyAccountCredentials();
  assert.equal(still.data.username, username);
});

/** Polls `probe` until `done(result)` holds (notifications are written by a job after their cause commits). */
async function eventually(probe, done, what, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe();
    if (done(result)) return result;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(result)}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

test('notifications: a follow request and a like reach the (locked) user; dismiss and markers work', async t => {
  if (!need(t, 'appToken', 'user', 'me')) return;
  const signUp = await generator('mastodon', LENTA_URL, state.appToken).registerAccount(`${username}_n`, `n_${email}`, password, true, 'en');
  const fan = generator('mastodon', LENTA_URL, signUp.data.access_token);
  const fanMe = (await fan.verifyAccountCredentials()).data;

  const rel = await fan.followAccount(state.me.id);
  assert.equal(rel.data.requested, true, 'the account was locked by an earlier step');
  // megalodon's followAccount sends only `reblog`; repeating the follow with `notify` updates the request's options.
  const notify = await fetch(`${LENTA_URL}/api/v1/accounts/${state.me.id}/follow`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${signUp.data.access_token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ notify: true }),
  });
  assert.equal(notify.status, 200);
  const requested = await eventually(() => state.user.getNotifications(), r => r.data.length > 0, 'the follow_request notification');
  assert.equal(requested.data[0].type, 'follow_request');
  assert.equal(requested.data[0].account.id, fanMe.id);

  await state.user.acceptFollowRequest(fanMe.id);
  const post = await state.user.postStatus('notify me', { visibility: 'public' });
  await fan.favouriteStatus(post.data.id);
  const liked = await eventually(() => state.user.getNotifications(), r => r.data.some(n => n.type === 'favourite'), 'the favourite notification');
  assert.deepEqual(liked.data.map(n => n.type), ['favourite'], 'authorizing took the request notification away');
  const like = liked.data[0];
  assert.equal(like.status.id, post.data.id);
  assert.equal(like.account.id, fanMe.id);
  // notify=true on the request carried over to the follow: the fan is told of the post.
  const told = await eventually(() => fan.getNotifications(), r => r.data.length > 0, 'the status notification');
  assert.equal(told.data[0].type, 'status');
  assert.equal(told.data[0].status.id, post.data.id);

  const one = await state.user.getNotification(like.id);
  assert.equal(one.data.id, like.id);
  const markers = await state.user.saveMarkers({ notifications: { last_read_id: like.id } });
  assert.equal(markers.data.notifications.last_read_id, like.id);
  const read = await state.user.getMarkers(['notifications']);
  assert.equal(read.data.notifications.last_read_id, like.id);
  assert.equal(read.data.notifications.version, 0);

  await state.user.dismissNotification(like.id);
  assert.deepEqual((await state.user.getNotifications()).data, []);
});

test('boosts: reblogStatus, getStatusRebloggedBy and unreblogStatus; the author is told and untold', async t => {
  if (!need(t, 'appToken', 'user', 'me')) return;
  const signUp = await generator('mastodon', LENTA_URL, state.appToken).registerAccount(`${username}_b`, `b_${email}`, password, true, 'en');
  const booster = generator('mastodon', LENTA_URL, signUp.data.access_token);
  const boosterMe = (await booster.verifyAccountCredentials()).data;
  const post = await state.user.postStatus('boost this', { visibility: 'public' });

  const boost = await booster.reblogStatus(post.data.id);
  assert.equal(boost.status, 200);
  assert.notEqual(boost.data.id, post.data.id);
  assert.equal(boost.data.account.id, boosterMe.id);
  assert.equal(boost.data.reblog.id, post.data.id);
  assert.equal(boost.data.reblog.reblogged, true);
  assert.equal(boost.data.reblog.reblogs_count, 1);
  assert.equal((await booster.reblogStatus(post.data.id)).data.id, boost.data.id, 'boosting again returns the boost');
  assert.deepEqual((await state.user.getStatusRebloggedBy(post.data.id)).data.map(a => a.id), [boosterMe.id]);
  const told = await eventually(() => state.user.getNotifications(), r => r.data.some(n => n.type === 'reblog'), 'the reblog notification');
  const notice = told.data.find(n => n.type === 'reblog');
  assert.equal(notice.account.id, boosterMe.id);
  assert.equal(notice.status.id, post.data.id);

  const undone = await booster.unreblogStatus(post.data.id);
  assert.equal(undone.data.id, post.data.id);
  assert.equal(undone.data.reblogged, false);
  assert.equal(undone.data.reblogs_count, 0);
  assert.deepEqual((await state.user.getStatusRebloggedBy(post.data.id)).data, []);
  assert.ok(!(await state.user.getNotifications()).data.some(n => n.type === 'reblog'), 'unboosting took the notification back');
});

test('direct posts: postStatus with visibility direct, getConversationTimeline, readConversation, deleteConversation', async t => {
  if (!need(t, 'appToken', 'user', 'me')) return;
  const friendName = `${username}_d`;
  const signUp = await generator('mastodon', LENTA_URL, state.appToken).registerAccount(friendName, `d_${email}`, password, true, 'en');
  const friend = generator('mastodon', LENTA_URL, signUp.data.access_token);
  const friendMe = (await friend.verifyAccountCredentials()).data;

  const posted = await state.user.postStatus(`@${friendName} just between us`, { visibility: 'direct' });
  assert.equal(posted.status, 200);
  assert.equal(posted.data.visibility, 'direct');
  assert.deepEqual(posted.data.mentions.map(m => m.id), [friendMe.id]);

  const theirs = await eventually(() => friend.getConversationTimeline({ limit: 20 }), r => r.data.length > 0, 'the friend\'s conversation');
  assert.equal(theirs.data.length, 1);
  const conversation = theirs.data[0];
  assert.equal(typeof conversation.id, 'string');
  assert.equal(conversation.unread, true);
  assert.deepEqual(conversation.accounts.map(a => a.id), [state.me.id]);
  assert.equal(conversation.last_status.id, posted.data.id);
  assert.equal(conversation.last_status.visibility, 'direct');

  const mine = await state.user.getConversationTimeline();
  assert.deepEqual(mine.data.map(c => c.last_status.id), [posted.data.id]);
  assert.equal(mine.data[0].unread, false, 'one\'s own post leaves the conversation read');
  assert.deepEqual(mine.data[0].accounts.map(a => a.id), [friendMe.id]);

  // Nobody else sees it: not on the author's public page, not by id.
  const stranger = generator('mastodon', LENTA_URL);
  assert.ok(!(await stranger.getAccountStatuses(state.me.id)).data.some(s => s.id === posted.data.id));
  await rejectsWithStatus(stranger.getStatus(posted.data.id), 404);

  const read = await friend.readConversation(conversation.id);
  assert.equal(read.data.id, conversation.id);
  assert.equal(read.data.unread, false);
  assert.equal((await friend.deleteConversation(conversation.id)).status, 200);
  assert.deepEqual((await friend.getConversationTimeline()).data, []);
  assert.equal((await state.user.getConversationTimeline()).data.length, 1, 'removing it is the friend\'s own business');
});
