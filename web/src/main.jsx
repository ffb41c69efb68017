import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getToken, finishSignIn, api, signOut } from './api.js';
import { SignedOut } from './auth.jsx';
import { Home, Profile, Thread, FollowRequests, Search, Me } from './views.jsx';
import './style.css';

const SERVER = /^\/(api|oauth|system|health|\.well-known|nodeinfo|avatars|headers|media)(\/|$)/;

export function navigate(path) {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
  window.scrollTo(0, 0);
}

// Same-origin links inside the client change the route without a page load.
document.addEventListener('click', (e) => {
  const a = e.target.closest && e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || SERVER.test(url.pathname)) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});

function usePath() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return path;
}

function App() {
  const path = usePath();
  const [token, setTok] = useState(getToken());
  const [me, setMe] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    if (path !== '/callback') return;
    finishSignIn(location.search).then(() => { setTok(getToken()); navigate('/'); }, (e) => { setError(e.message); navigate('/'); });
  }, [path]);

  useEffect(() => {
    if (!token) { setMe(null); return; }
    api('/api/v1/accounts/verify_credentials').then(setMe, (e) => {
      if (e.status === 401) { signOut(); setTok(null); }
    });
  }, [token]);

  if (path === '/callback') return <main class="center"><p role="status">Signing in…</p></main>;
  if (!token) return <SignedOut error={error} onSignedIn={() => setTok(getToken())} />;
  if (!me) return <main class="center"><p role="status">Loading…</p></main>;

  const out = async () => { await signOut(); setTok(null); navigate('/'); };
  let view;
  const m = path.match(/^\/@([^/]+)$/);
  const s = path.match(/^\/statuses\/([^/]+)$/);
  if (path === '/') view = <Home me={me} />;
  else if (m) view = <Profile acct={decodeURIComponent(m[1])} me={me} />;
  else if (s) view = <Thread id={s[1]} me={me} />;
  else if (path === '/follow-requests') view = <FollowRequests />;
  else if (path === '/search') view = <Search />;
  else view = <section><h1>Not found</h1><p>There is nothing here. <a href="/">Go home</a>.</p></section>;

  return (
    <Me.Provider value={me}>
      <div class="layout">
        <a class="skip" href="#main">Skip to content</a>
        <header class="bar">
          <a class="brand" href="/">Lenta</a>
          <nav aria-label="Main">
            <a href="/" aria-current={path === '/' ? 'page' : undefined}>Home</a>
            <a href={'/@' + me.acct} aria-current={m && m[1] === me.acct ? 'page' : undefined}>My page</a>
            <a href="/search" aria-current={path === '/search' ? 'page' : undefined}>Search</a>
            <a href="/follow-requests" aria-current={path === '/follow-requests' ? 'page' : undefined}>Requests</a>
            <button type="button" class="link" onClick={out}>Sign out</button>
          </nav>
        </header>
        <main id="main" tabIndex={-1}>{view}</main>
      </div>
    </Me.Provider>
  );
}

render(<App />, document.getElementById('app'));
