// The public Mastodon API, as any other client uses it. The token lives in localStorage.
const APP_KEY = 'lenta.app';
const TOKEN_KEY = 'lenta.token';
const SCOPES = 'read write follow';
export const redirectUri = () => location.origin + '/callback';

export const getToken = () => localStorage.getItem(TOKEN_KEY);
export const setToken = (t) => (t ? localStorage.setItem(TOKEN_KEY, t) : localStorage.removeItem(TOKEN_KEY));

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export async function api(path, { method = 'GET', body, token = getToken(), raw = false } = {}) {
  const headers = {};
  if (token) headers.Authorization = 'Bearer ' + token;
  // FormData (files) goes as multipart/form-data with the boundary the browser picks.
  const form = body instanceof FormData;
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined || form ? body : JSON.stringify(body) });
  if (raw) return res;
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new ApiError(res.status, (json && json.error) || res.statusText);
  return json;
}

/** The next page's URL from a Link header (rel="next"), or null. */
export function nextLink(res) {
  const link = res.headers.get('Link') || '';
  const m = link.match(/<([^>]+)>;\s*rel="next"/);
  if (!m) return null;
  const u = new URL(m[1], location.origin);
  return u.pathname + u.search;
}

export async function page(path) {
  const res = await api(path, { raw: true });
  const json = await res.json();
  if (!res.ok) throw new ApiError(res.status, json.error || res.statusText);
  return { items: json, next: nextLink(res) };
}

/** This client's registration (POST /api/v1/apps), made once per browser. */
export async function getApp() {
  const saved = JSON.parse(localStorage.getItem(APP_KEY) || 'null');
  if (saved && saved.redirect === redirectUri()) return saved;
  const app = await api('/api/v1/apps', {
    method: 'POST', token: null,
    body: { client_name: 'Lenta Web', redirect_uris: redirectUri(), scopes: SCOPES, website: location.origin },
  });
  const kept = { client_id: app.client_id, client_secret: app.client_secret, redirect: redirectUri() };
  localStorage.setItem(APP_KEY, JSON.stringify(kept));
  return kept;
}

async function tokenRequest(params) {
  const res = await fetch('/oauth/token', {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(params),
  });
  const json = await res.json();
  if (!res.ok) throw new ApiError(res.status, json.error_description || json.error || 'Sign-in failed');
  return json.access_token;
}

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** Authorization code + PKCE through Lenta's own sign-in page. */
export async function startSignIn() {
  const app = await getApp();
  const verifier = b64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = b64url(crypto.getRandomValues(new Uint8Array(16)));
  const challenge = b64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem('lenta.pkce', JSON.stringify({ verifier, state }));
  const q = new URLSearchParams({
    response_type: 'code', client_id: app.client_id, redirect_uri: redirectUri(), scope: SCOPES,
    code_challenge: challenge, code_challenge_method: 'S256', state, force_login: 'true',
  });
  location.assign('/oauth/authorize?' + q);
}

export async function finishSignIn(search) {
  const q = new URLSearchParams(search);
  const saved = JSON.parse(sessionStorage.getItem('lenta.pkce') || 'null');
  sessionStorage.removeItem('lenta.pkce');
  if (q.get('error')) throw new Error(q.get('error_description') || q.get('error'));
  if (!saved || saved.state !== q.get('state')) throw new Error('The sign-in expired; please try again.');
  const app = await getApp();
  const token = await tokenRequest({
    grant_type: 'authorization_code', code: q.get('code'), redirect_uri: redirectUri(),
    client_id: app.client_id, client_secret: app.client_secret, code_verifier: saved.verifier,
  });
  setToken(token);
}

export async function signUp({ username, email, password }) {
  const app = await getApp();
  const appToken = await tokenRequest({ grant_type: 'client_credentials', client_id: app.client_id, client_secret: app.client_secret, scope: SCOPES });
  const res = await api('/api/v1/accounts', {
    method: 'POST', token: appToken, body: { username, email, password, agreement: true, locale: navigator.language || 'en' },
  });
  setToken(res.access_token);
}

export async function signOut() {
  const token = getToken();
  setToken(null);
  const app = JSON.parse(localStorage.getItem(APP_KEY) || 'null');
  if (token && app) {
    await fetch('/oauth/revoke', {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: app.client_id, client_secret: app.client_secret, token }),
    }).catch(() => {});
  }
}

/**
 * Uploads one file with XMLHttpRequest so its progress can be shown. Resolves with the attachment (200 or 202).
 * Aborting `signal` aborts the request; the promise then rejects with an error named AbortError.
 */
export function upload(file, description, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v2/media');
    xhr.setRequestHeader('Authorization', 'Bearer ' + getToken());
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let json = null;
      try { json = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(json);
      else reject(new ApiError(xhr.status, (json && json.error) || 'Upload failed'));
    };
    xhr.onerror = () => reject(new Error('Upload failed'));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    if (signal) {
      if (signal.aborted) return reject(new DOMException('Upload cancelled', 'AbortError'));
      signal.addEventListener('abort', () => xhr.abort(), { once: true });
    }
    const form = new FormData();
    form.append('file', file);
    if (description) form.append('description', description);
    xhr.send(form);
  });
}

/**
 * The signed-in user's home stream (GET /api/v1/streaming, a WebSocket; the token goes as its subprotocol, since a
 * browser cannot set headers on one). Calls onUpdate with each new post; reconnects after a drop (1 s, doubling to
 * 30 s); onLive(true/false) tells whether it is connected. Returns a function that closes it.
 */
export function streamHome(onUpdate, onLive) {
  let ws = null, stopped = false, wait = 1000, timer = null;
  const open = () => {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/streaming?stream=user';
    ws = new WebSocket(url, getToken());
    ws.onopen = () => { wait = 1000; onLive(true); };
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (msg.event === 'update') onUpdate(JSON.parse(msg.payload));
    };
    ws.onclose = () => {
      if (stopped) return;
      onLive(false);
      timer = setTimeout(open, wait);
      wait = Math.min(wait * 2, 30000);
    };
  };
  open();
  return () => {
    stopped = true;
    clearTimeout(timer);
    // Closing a socket still connecting makes the browser report an error; close it once it is open instead.
    if (ws.readyState === WebSocket.CONNECTING) ws.onopen = () => ws.close();
    else ws.close();
  };
}
