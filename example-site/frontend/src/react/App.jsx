// The demo page as a React component: log in, call a protected API across
// token expiry, log out. The element ids are the vanilla page's.
import { useEffect, useState } from 'react'
import { useJwtFetch } from 'jwtfetch/react'
import { errorText, eventNames, expiredMessage, expiry, expiryText, isCanceled } from '../shared/demo.js'

let nextEvent = 0

export function App() {
  const { api, isAuthenticated, ready, error: loadError, claims, login, logout } = useJwtFetch()
  const [username, setUsername] = useState('demo')
  const [password, setPassword] = useState('demo123')
  const [me, setMe] = useState('')
  const [error, setError] = useState('')
  const [events, setEvents] = useState([])

  useEffect(() => {
    const off = eventNames.map((name) =>
      api.auth.on(name, () => {
        const ev = { id: nextEvent++, text: `${new Date().toLocaleTimeString()} ${name}` }
        setEvents((list) => [ev, ...list])
        if (name === 'expired') setError(expiredMessage)
      }),
    )
    return () => off.forEach((f) => f())
  }, [api])

  useEffect(() => {
    if (loadError) setError(errorText(loadError))
  }, [loadError])

  async function loadProfile(signal) {
    setError('')
    try {
      const { data } = await api.get('/api/me', { signal })
      setMe(JSON.stringify(data, null, 2))
    } catch (e) {
      if (!isCanceled(e)) setError(errorText(e))
    }
  }

  // Once the runtime is ready: tell the tests, and show a session kept from
  // an earlier visit. The request is aborted if the effect is cleaned up
  // (StrictMode runs it twice in development).
  useEffect(() => {
    if (!ready) return
    document.body.dataset.ready = 'true'
    if (!api.auth.isAuthenticated()) return
    const ac = new AbortController()
    loadProfile(ac.signal)
    return () => ac.abort()
  }, [api, ready])

  async function submit(ev) {
    ev.preventDefault()
    setError('')
    try {
      await login('/auth/login', { username, password })
      await loadProfile()
    } catch (e) {
      setError(e.response?.status === 401 ? 'wrong user or password' : errorText(e))
    }
  }

  async function burst() {
    setError('')
    setMe('sending 20 requests…')
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => api.get('/api/me')))
    const ok = results.filter((r) => r.status === 'fulfilled').length
    setMe(`${ok} of 20 succeeded`)
  }

  async function signOut() {
    // The server revokes the session of the token it is sent; the tokens
    // are forgotten here even if it is down.
    await logout('/auth/logout', { timeout: 3000 })
    setMe('')
  }

  const signedIn = ready && isAuthenticated
  return (
    <>
      <form id="login-form" hidden={!ready || signedIn} onSubmit={submit}>
        <label>
          User{' '}
          <input id="username" name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Password{' '}
          <input
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button id="login" type="submit">Log in</button>
      </form>

      <section id="profile" hidden={!signedIn}>
        {/* The user and the expiry come from the access token's claims, which follow every refresh. */}
        <p>
          Signed in as <strong id="user">{claims?.sub ?? '?'}</strong> · access token valid until{' '}
          <time id="expires" dateTime={expiry(claims)?.toISOString()}>
            {expiryText(claims)}
          </time>
        </p>
        <p>
          <button id="load" onClick={() => loadProfile()}>Load profile</button>
          <button id="burst" onClick={burst}>20 requests at once</button>
          <button id="logout" onClick={signOut}>Log out</button>
        </p>
        <pre id="me">{me}</pre>
      </section>

      <p id="state" aria-live="polite">{!ready ? 'loading…' : signedIn ? 'signed in' : 'signed out'}</p>
      <p id="error" className="error" role="alert">{error}</p>
      <h2>Events</h2>
      <ol id="events">
        {events.map((ev) => (
          <li key={ev.id}>{ev.text}</li>
        ))}
      </ol>
    </>
  )
}
