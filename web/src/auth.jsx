import { useState } from 'preact/hooks';
import { startSignIn, signUp } from './api.js';

export function SignedOut({ error, onSignedIn }) {
  const [mode, setMode] = useState('in');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState(error);

  const submitUp = async (e) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true); setMsg(null);
    try {
      await signUp({ username: f.get('username'), email: f.get('email'), password: f.get('password') });
      onSignedIn();
    } catch (err) { setMsg(err.message); } finally { setBusy(false); }
  };
  const goIn = async () => {
    setBusy(true); setMsg(null);
    try { await startSignIn(); } catch (err) { setMsg(err.message); setBusy(false); }
  };

  return (
    <main id="main" class="center welcome">
      <h1>Lenta</h1>
      <p>Photos and videos from the people you follow.</p>
      {msg && <p class="error" role="alert">{msg}</p>}
      {mode === 'in' ? (
        <div class="card">
          <button type="button" class="primary" onClick={goIn} disabled={busy}>Sign in</button>
          <p>New here? <button type="button" class="link" onClick={() => setMode('up')}>Create an account</button></p>
        </div>
      ) : (
        <form class="card" onSubmit={submitUp}>
          <h2>Create an account</h2>
          <label>Username <input name="username" required autocomplete="username" pattern="[A-Za-z0-9_]+" maxLength={30} /></label>
          <label>E-mail address <input name="email" type="email" required autocomplete="email" /></label>
          <label>Password <input name="password" type="password" required minLength={8} autocomplete="new-password" /></label>
          <button type="submit" class="primary" disabled={busy}>Sign up</button>
          <p>Have an account? <button type="button" class="link" onClick={() => setMode('in')}>Sign in</button></p>
        </form>
      )}
    </main>
  );
}
