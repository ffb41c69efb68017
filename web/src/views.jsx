import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { api, page, upload, streamHome } from './api.js';
import { MediaGrid } from './media.jsx';

const when = (iso) => new Date(iso).toLocaleString();

/** The signed-in account, for what depends on whose post it is (who may boost a private one). */
export const Me = createContext(null);

// Every copy of a post on the page (the original and a boost of it in one feed) shows the same like and boost state:
// a change is announced here and each Status showing that post applies it.
const changes = new EventTarget();
const announce = (id, patch) => changes.dispatchEvent(Object.assign(new Event('change'), { id, patch }));

/**
 * One post. A boost (`reblog` set) shows as Mastodon's web UI shows it: a "<booster> boosted" line above the original,
 * whose author, content, media, counts and buttons are the original's (docs.joinmastodon.org/entities/Status/#reblog).
 */
export function Status({ s: item }) {
  const me = useContext(Me);
  const booster = item.reblog ? item.account : null;
  const [s, setS] = useState(item.reblog || item);
  const busy = useRef({});
  useEffect(() => {
    const on = (e) => e.id === s.id && setS((cur) => ({ ...cur, ...e.patch }));
    changes.addEventListener('change', on);
    return () => changes.removeEventListener('change', on);
  }, [s.id]);

  // Shown at once, then as the server answers; put back if the request fails.
  const toggle = async (kind, flag, count, on, off) => {
    if (busy.current[kind]) return;
    busy.current[kind] = true;
    const was = { [flag]: s[flag], [count]: s[count] };
    announce(s.id, { [flag]: !was[flag], [count]: was[count] + (was[flag] ? -1 : 1) });
    try {
      const fresh = await api(`/api/v1/statuses/${s.id}/${was[flag] ? off : on}`, { method: 'POST' });
      const post = fresh.reblog || fresh;   // a boost answers the boost, the original inside it
      announce(s.id, { [flag]: post[flag], [count]: post[count] });
    } catch {
      announce(s.id, was);
    } finally { busy.current[kind] = false; }
  };
  const like = () => toggle('like', 'favourited', 'favourites_count', 'favourite', 'unfavourite');
  const boost = () => toggle('boost', 'reblogged', 'reblogs_count', 'reblog', 'unreblog');
  // Mastodon's StatusPolicy#reblog?: never a direct post, a private one only by its author.
  const own = me && s.account.id === me.id;
  const boostable = s.visibility === 'public' || s.visibility === 'unlisted' || (s.visibility === 'private' && own);

  const a = s.account;
  const key = item.id;   // unique in a list even when a post and a boost of it are both in it
  return (
    <article class="status" aria-labelledby={(booster ? 'boost-' + key + ' ' : '') + 'by-' + key} data-id={item.id}>
      {booster && (
        <p class="boosted" id={'boost-' + key}>
          <span aria-hidden="true">⟲</span> <a href={'/@' + booster.acct}>{booster.display_name || booster.username}</a> boosted
        </p>)}
      <header>
        <img class="avatar" src={a.avatar_static || a.avatar} alt="" width="40" height="40" />
        <div>
          <a id={'by-' + key} class="name" href={'/@' + a.acct}>{a.display_name || a.username}</a>
          <span class="acct">@{a.acct}</span>
        </div>
        <a class="time" href={'/statuses/' + s.id}><time dateTime={s.created_at}>{when(s.created_at)}</time></a>
      </header>
      <div class="content" dangerouslySetInnerHTML={{ __html: s.content }} />
      <MediaGrid items={s.media_attachments} />
      <footer>
        <div class="actions">
          <button type="button" class={'like' + (s.favourited ? ' on' : '')} aria-pressed={s.favourited ? 'true' : 'false'} onClick={like}>
            <span aria-hidden="true">{s.favourited ? '♥' : '♡'}</span> Like <span class="count">{s.favourites_count}</span>
          </button>
          <button type="button" class={'boost' + (s.reblogged ? ' on' : '')} aria-pressed={s.reblogged ? 'true' : 'false'} onClick={boost}
            disabled={!boostable} title={boostable ? undefined : 'Followers-only and direct posts cannot be boosted'}>
            <span aria-hidden="true">⟲</span> Boost <span class="count">{s.reblogs_count}</span>
          </button>
        </div>
        <span class="vis">{s.visibility}</span>
      </footer>
    </article>
  );
}

/** A list of posts from a paged endpoint, loading the next page (Link rel="next") as its end comes on screen. */
export function Feed({ path, prepend = [], label }) {
  const [items, setItems] = useState([]);
  const [next, setNext] = useState(path);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState(null);
  const end = useRef();
  const state = useRef({ next: path, loading: false });

  const more = async () => {
    const st = state.current;
    if (st.loading || !st.next) return;
    st.loading = true; setLoading(true);
    try {
      const r = await page(st.next);
      st.next = r.next && r.items.length ? r.next : null;
      setNext(st.next);
      setItems((cur) => [...cur, ...r.items.filter((x) => !cur.some((c) => c.id === x.id))]);
    } catch (e) { setError(e.message); st.next = null; } finally { st.loading = false; setLoading(false); }
  };

  // The observer only reports changes: if the end is still near the screen once a page is on it, fetch the next one
  // too (checked after the render, so the new posts have pushed the end down first).
  useEffect(() => {
    const st = state.current;
    if (items.length && !st.loading && st.next && end.current && end.current.getBoundingClientRect().top < innerHeight + 800) more();
  }, [items]);

  useEffect(() => {
    state.current = { next: path, loading: false };
    setItems([]); setNext(path); setError(null);
    more();
  }, [path]);

  useEffect(() => {
    // An entry is computed a frame before it is delivered: by then a page may have pushed the end away, so look again.
    const near = () => end.current && end.current.getBoundingClientRect().top < innerHeight + 800;
    const io = new IntersectionObserver((es) => es.some((e) => e.isIntersecting) && near() && more(), { rootMargin: '800px' });
    io.observe(end.current);
    return () => io.disconnect();
  }, []);

  const all = [...prepend.filter((p) => !items.some((i) => i.id === p.id)), ...items];
  return (
    <section aria-label={label} class="feed" aria-busy={loading ? 'true' : 'false'}>
      {all.map((s) => <Status key={s.id} s={s} />)}
      {!loading && !all.length && !error && <p class="empty">No posts yet.</p>}
      {error && <p class="error" role="alert">{error}</p>}
      <div ref={end} class="end" aria-hidden="true">{loading ? 'Loading…' : next ? '' : all.length ? 'That is all.' : ''}</div>
    </section>
  );
}

function Upload({ item, onAlt, onRemove }) {
  const pct = (x) => Math.round(x * 100);
  return (
    <li class="upload">
      {item.preview && <img src={item.preview} alt="" />}
      <div class="upload-body">
        <span class="fname">{item.file.name}</span>
        {item.stage === 'uploading' && (
          <label>Uploading <progress class="upload-progress" max="100" value={pct(item.sent)}>{pct(item.sent)}%</progress></label>)}
        {item.stage === 'processing' && (
          <label>Processing <progress class="processing-progress" max="100" value={item.processing}>{item.processing}%</progress></label>)}
        {item.stage === 'ready' && <span class="ready">Ready</span>}
        {item.stage === 'failed' && <span class="error" role="alert">{item.file.name} cannot be posted: {item.error}</span>}
        {item.kind === 'image' && (
          <label>Description (alt text) <input value={item.alt} onInput={(e) => onAlt(e.currentTarget.value)} maxLength={1500} /></label>)}
      </div>
      <button type="button" class="link" onClick={onRemove}>
        {item.stage === 'uploading' || item.stage === 'processing' ? 'Cancel' : 'Remove'}<span class="sr"> {item.file.name}</span>
      </button>
    </li>
  );
}

export function Compose({ onPosted }) {
  const [text, setText] = useState('');
  const [visibility, setVisibility] = useState('public');
  const [uploads, setUploads] = useState([]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const fileInput = useRef();

  const patch = (key, change) => setUploads((cur) => cur.map((u) => (u.key === key ? { ...u, ...change } : u)));

  const add = (e) => {
    const files = [...e.currentTarget.files];
    e.currentTarget.value = '';
    setError(null);
    const videos = files.filter((f) => f.type.startsWith('video/'));
    const had = uploads.length;
    if (videos.length && (files.length > 1 || had)) return setError('A post has either up to four photos or one video.');
    if (uploads.some((u) => u.kind === 'video')) return setError('A post has either up to four photos or one video.');
    if (had + files.length > 4) return setError('Up to four photos per post.');
    for (const file of files) {
      const key = Math.random().toString(36).slice(2);
      const kind = file.type.startsWith('video/') ? 'video' : 'image';
      // Removing the file aborts its upload request, or stops the polling while the server processes it.
      const abort = new AbortController();
      const item = { key, file, kind, alt: '', stage: 'uploading', sent: 0, processing: 0, abort, preview: kind === 'image' ? URL.createObjectURL(file) : null };
      setUploads((cur) => [...cur, item]);
      upload(file, '', (f) => patch(key, { sent: f }), abort.signal)
        .then(async (m) => {
          patch(key, { id: m.id, sent: 1, stage: 'processing', processing: (m.lenta && m.lenta.processing_progress) || 0 });
          let cur = m;
          const state = (x) => (x.lenta && x.lenta.state) || (x.url ? 'ready' : 'pending');
          while (state(cur) !== 'ready' && state(cur) !== 'failed') {
            await new Promise((r) => setTimeout(r, 500));
            if (abort.signal.aborted) return;
            const res = await api(`/api/v1/media/${m.id}`, { raw: true });
            const json = await res.json();
            if (res.status >= 400) throw new Error(json.error || 'Processing failed');
            cur = json;
            patch(key, { processing: (cur.lenta && cur.lenta.processing_progress) || 0 });
          }
          if (state(cur) === 'failed') throw new Error(cur.lenta.failure_reason || 'Processing failed');
          patch(key, { stage: 'ready', processing: 100 });
        })
        .catch((err) => abort.signal.aborted || patch(key, { stage: 'failed', error: err.message }));
    }
  };

  const remove = (u) => {
    u.abort.abort();
    // Once the server has the upload, tell it to drop it (DELETE /api/v1/media/:id) rather than wait for the sweep.
    if (u.id) api(`/api/v1/media/${u.id}`, { method: 'DELETE' }).catch(() => {});
    if (u.preview) URL.revokeObjectURL(u.preview);
    setUploads((cur) => cur.filter((x) => x.key !== u.key));
    setError(null);
  };

  const submit = async (e) => {
    e.preventDefault();
    const failed = uploads.find((u) => u.stage === 'failed');
    if (failed) return setError(`Remove ${failed.file.name}, which could not be processed, before posting.`);
    if (uploads.some((u) => u.stage !== 'ready')) return setError('Wait until every file is ready (or cancel it).');
    if (!text.trim() && !uploads.length) return setError('Write something or add a photo or video.');
    setBusy(true); setError(null);
    try {
      for (const u of uploads) if (u.alt) await api(`/api/v1/media/${u.id}`, { method: 'PUT', body: { description: u.alt } });
      const s = await api('/api/v1/statuses', { method: 'POST', body: { status: text, visibility, media_ids: uploads.map((u) => u.id) } });
      uploads.forEach((u) => u.preview && URL.revokeObjectURL(u.preview));
      setText(''); setUploads([]);
      onPosted(s);
    } catch (err) { setError(err.message); } finally { setBusy(false); }
  };

  return (
    <form class="compose card" onSubmit={submit} aria-label="New post">
      <label for="compose-text" class="sr">What is new?</label>
      <textarea id="compose-text" placeholder="What is new?" value={text} onInput={(e) => setText(e.currentTarget.value)} rows={3} maxLength={500} />
      {uploads.length > 0 && <ul class="uploads">{uploads.map((u) => (
        <Upload key={u.key} item={u} onAlt={(alt) => patch(u.key, { alt })} onRemove={() => remove(u)} />))}</ul>}
      {error && <p class="error" role="alert">{error}</p>}
      <div class="row">
        <button type="button" onClick={() => fileInput.current.click()}>Add photos or video</button>
        <input ref={fileInput} id="compose-files" class="sr" type="file" accept="image/*,video/*" multiple onChange={add} aria-label="Photos or video" tabIndex={-1} />
        <label>Visibility <select value={visibility} onChange={(e) => setVisibility(e.currentTarget.value)}>
          <option value="public">Public</option><option value="unlisted">Unlisted</option>
          <option value="private">Followers only</option><option value="direct">Mentioned only</option>
        </select></label>
        <button type="submit" class="primary" disabled={busy}>Post</button>
      </div>
    </form>
  );
}

/** The home feed, with a banner for posts that arrived on the stream since it loaded (shown when asked for). */
export function Home({ me }) {
  const [shown, setShown] = useState([]);   // own new posts and the new posts the banner let in, newest first
  const [waiting, setWaiting] = useState([]);
  const [live, setLive] = useState(false);
  useEffect(() => streamHome((s) => {
    if (s.account.id === me.id) return;   // own posts are shown as soon as they are posted
    setWaiting((cur) => (cur.some((x) => x.id === s.id) ? cur : [s, ...cur]));
  }, setLive), [me.id]);
  const showNew = () => {
    setShown((cur) => [...waiting.filter((s) => !cur.some((c) => c.id === s.id)), ...cur]);
    setWaiting([]);
    window.scrollTo(0, 0);
    requestAnimationFrame(() => document.querySelector('.feed .status a.name')?.focus({ preventScroll: true }));   // keyboard users land on the newest
  };
  return (
    <>
      <h1 class="sr">Home</h1>
      <Compose onPosted={(s) => setShown((cur) => [s, ...cur])} />
      <div class="new-posts" aria-live="polite" data-stream={live ? 'open' : 'closed'}>
        {waiting.length > 0 && (
          <button type="button" class="primary" onClick={showNew}>
            {waiting.length === 1 ? 'Show 1 new post' : `Show ${waiting.length} new posts`}
          </button>)}
      </div>
      <Feed path="/api/v1/timelines/home?limit=20" prepend={shown} label="Home feed" />
    </>
  );
}

function FollowButton({ account, me }) {
  const [rel, setRel] = useState(null);
  useEffect(() => { api(`/api/v1/accounts/relationships?id[]=${account.id}`).then((r) => setRel(r[0])); }, [account.id]);
  if (!rel || account.id === me.id) return null;
  const act = async (what) => setRel(await api(`/api/v1/accounts/${account.id}/${what}`, { method: 'POST' }));
  if (rel.following) return <button type="button" onClick={() => act('unfollow')}>Unfollow</button>;
  if (rel.requested) return <button type="button" onClick={() => act('unfollow')} aria-label="Requested; withdraw the request">Requested</button>;
  return <button type="button" class="primary" onClick={() => act('follow')}>Follow</button>;
}

/**
 * The signed-in person's own profile form: display name, bio, locked, and avatar and header pictures (previewed before
 * saving), sent with PATCH /api/v1/accounts/update_credentials: as JSON, or as multipart when a picture is chosen.
 */
function EditProfile({ onSaved, onCancel }) {
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [pictures, setPictures] = useState({});
  useEffect(() => {
    api('/api/v1/accounts/verify_credentials').then(
      (c) => setForm({ display_name: c.display_name || '', note: (c.source && c.source.note) || '', locked: !!c.locked, avatar: c.avatar, header: c.header }),
      (e) => setError(e.message));
  }, []);
  useEffect(() => () => Object.values(pictures).forEach((p) => URL.revokeObjectURL(p.preview)), [pictures]);
  const save = async (e) => {
    e.preventDefault();
    setBusy(true); setError(null);
    let body = { display_name: form.display_name, note: form.note, locked: form.locked };
    if (pictures.avatar || pictures.header) {
      body = new FormData();
      body.append('display_name', form.display_name);
      body.append('note', form.note);
      body.append('locked', String(form.locked));
      for (const [name, p] of Object.entries(pictures)) body.append(name, p.file);
    }
    try { onSaved(await api('/api/v1/accounts/update_credentials', { method: 'PATCH', body })); }
    catch (err) { setError(err.message); setBusy(false); }
  };
  const set = (key) => (e) => setForm({ ...form, [key]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value });
  const pick = (key) => (e) => {
    const file = e.currentTarget.files[0];
    if (file) setPictures({ ...pictures, [key]: { file, preview: URL.createObjectURL(file) } });
  };
  if (!form) return error ? <p class="error" role="alert">{error}</p> : <p role="status">Loading…</p>;
  return (
    <form class="edit-profile" onSubmit={save} aria-label="Edit profile">
      <div class="pictures">
        <label>Avatar (shown as 400×400)
          <img class="avatar-preview" src={pictures.avatar ? pictures.avatar.preview : form.avatar} alt="Avatar preview" />
          <input type="file" accept="image/jpeg,image/png,image/gif,image/webp,image/heic,image/avif" onChange={pick('avatar')} aria-label="Choose an avatar" />
        </label>
        <label>Header (shown as 1500×500)
          <img class="header-preview" src={pictures.header ? pictures.header.preview : form.header} alt="Header preview" />
          <input type="file" accept="image/jpeg,image/png,image/gif,image/webp,image/heic,image/avif" onChange={pick('header')} aria-label="Choose a header" />
        </label>
      </div>
      <label>Display name <input value={form.display_name} onInput={set('display_name')} maxLength={30} /></label>
      <label>Bio <textarea value={form.note} onInput={set('note')} rows={3} maxLength={500} /></label>
      <label class="check"><input type="checkbox" checked={form.locked} onChange={set('locked')} /> Approve each new follower (locked account)</label>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="row">
        <button type="button" onClick={onCancel}>Cancel</button>
        <button type="submit" class="primary" disabled={busy}>Save</button>
      </div>
    </form>
  );
}

export function Profile({ acct, me }) {
  const [account, setAccount] = useState(null);
  const [error, setError] = useState(null);
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    setAccount(null); setError(null); setEditing(false);
    api('/api/v1/accounts/lookup?acct=' + encodeURIComponent(acct)).then(setAccount, (e) => setError(e.status === 404 ? 'No such account.' : e.message));
  }, [acct]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!account) return <p role="status">Loading…</p>;
  const own = account.id === me.id;
  return (
    <>
      <section class="profile card">
        <div class="banner" style={{ backgroundImage: `url(${account.header_static || account.header})` }} />
        <div class="who">
          <img class="avatar big" src={account.avatar_static || account.avatar} alt="" width="80" height="80" />
          <div>
            <h1>{account.display_name || account.username}</h1>
            <p class="acct">@{account.acct}{account.locked && <span class="badge" title="Approves each new follower">Locked</span>}</p>
          </div>
          {own ? !editing && <button type="button" onClick={() => setEditing(true)}>Edit profile</button> : <FollowButton account={account} me={me} />}
        </div>
        {editing && <EditProfile onCancel={() => setEditing(false)} onSaved={(a) => { setAccount({ ...account, ...a }); setEditing(false); }} />}
        {!editing && account.note && <div class="note" dangerouslySetInnerHTML={{ __html: account.note }} />}
        <dl class="counts">
          <div><dt>Posts</dt><dd>{account.statuses_count}</dd></div>
          <div><dt>Following</dt><dd>{account.following_count}</dd></div>
          <div><dt>Followers</dt><dd>{account.followers_count}</dd></div>
        </dl>
      </section>
      <Feed path={`/api/v1/accounts/${account.id}/statuses?limit=20`} label={'Posts by @' + account.acct} />
    </>
  );
}

export function Thread({ id }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    setData(null);
    // A boost's thread is its original's.
    Promise.all([api('/api/v1/statuses/' + id), api(`/api/v1/statuses/${id}/context`).catch(() => null)])
      .then(async ([s, c]) => setData({ s, c: s.reblog || !c ? await api(`/api/v1/statuses/${(s.reblog || s).id}/context`) : c }))
      .catch((e) => setError(e.status === 404 ? 'This post is not there.' : e.message));
  }, [id]);
  if (error) return <p class="error" role="alert">{error}</p>;
  if (!data) return <p role="status">Loading…</p>;
  return (
    <section aria-label="Thread" class="thread">
      <h1 class="sr">Post</h1>
      {data.c.ancestors.map((s) => <Status key={s.id} s={s} />)}
      <div class="focus"><Status key={data.s.id} s={data.s} /></div>
      {data.c.descendants.map((s) => <Status key={s.id} s={s} />)}
    </section>
  );
}

function AccountRow({ a, children }) {
  return (
    <li class="account-row">
      <img class="avatar" src={a.avatar_static || a.avatar} alt="" width="40" height="40" />
      <a href={'/@' + a.acct}>{a.display_name || a.username} <span class="acct">@{a.acct}</span></a>
      {children}
    </li>
  );
}

export function FollowRequests() {
  const [list, setList] = useState(null);
  useEffect(() => { api('/api/v1/follow_requests').then(setList); }, []);
  const decide = async (a, what) => {
    await api(`/api/v1/follow_requests/${a.id}/${what}`, { method: 'POST' });
    setList((cur) => cur.filter((x) => x.id !== a.id));
  };
  return (
    <section class="card">
      <h1>Follow requests</h1>
      {!list ? <p role="status">Loading…</p> : !list.length ? <p>No one is waiting.</p> : (
        <ul class="accounts">{list.map((a) => (
          <AccountRow key={a.id} a={a}>
            <button type="button" class="primary" onClick={() => decide(a, 'authorize')}>Accept<span class="sr"> @{a.acct}</span></button>
            <button type="button" onClick={() => decide(a, 'reject')}>Reject<span class="sr"> @{a.acct}</span></button>
          </AccountRow>))}</ul>)}
    </section>
  );
}

export function Search() {
  const [q, setQ] = useState(new URLSearchParams(location.search).get('q') || '');
  const [list, setList] = useState(null);
  const run = async (e) => {
    e && e.preventDefault();
    if (!q.trim()) return;
    history.replaceState(null, '', '/search?q=' + encodeURIComponent(q));
    setList(await api('/api/v1/accounts/search?limit=20&q=' + encodeURIComponent(q)));
  };
  useEffect(() => { if (q) run(); }, []);
  return (
    <section class="card">
      <h1>Search people</h1>
      <form role="search" onSubmit={run} class="row">
        <label for="q" class="sr">Name or username</label>
        <input id="q" type="search" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="Name or username" />
        <button type="submit" class="primary">Search</button>
      </form>
      {list && (list.length ? <ul class="accounts">{list.map((a) => <AccountRow key={a.id} a={a} />)}</ul> : <p>No one found.</p>)}
    </section>
  );
}
