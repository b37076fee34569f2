// The vanilla demo: log in, call a protected API across token expiry, log out.
import { create, isJwtFetchError } from '/jsglue/jwtfetch.js'

const $ = (id) => document.getElementById(id)

export const api = create({
  baseURL: '/',
  auth: {
    refreshURL: '/auth/refresh',
    onExpired: () => show('session expired; please log in again'),
  },
})
// Exposed for the end-to-end tests and for playing in the console.
window.api = api

for (const ev of ['tokens', 'refresh', 'expired']) {
  api.auth.on(ev, () => {
    const li = document.createElement('li')
    li.textContent = `${new Date().toLocaleTimeString()} ${ev}`
    $('events').prepend(li)
    render()
  })
}

function show(msg) {
  $('error').textContent = msg
}

function render() {
  const signedIn = api.auth.isAuthenticated()
  $('login-form').hidden = signedIn
  $('profile').hidden = !signedIn
  $('state').textContent = signedIn ? 'signed in' : 'signed out'
}

async function loadProfile() {
  show('')
  try {
    const { data } = await api.get('/api/me')
    $('user').textContent = data.user
    $('me').textContent = JSON.stringify(data, null, 2)
    return data
  } catch (e) {
    show(isJwtFetchError(e) ? `${e.code}: ${e.message}` : String(e))
    render()
    throw e
  }
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault()
  show('')
  try {
    const { data } = await api.post(
      '/auth/login',
      { username: $('username').value, password: $('password').value },
      { skipAuth: true },
    )
    api.auth.setTokens({ accessToken: data.access, refreshToken: data.refresh })
    render()
    await loadProfile()
  } catch (e) {
    show(e.response?.status === 401 ? 'wrong user or password' : `${e.code}: ${e.message}`)
  }
})

$('load').addEventListener('click', () => loadProfile().catch(() => {}))

$('burst').addEventListener('click', async () => {
  show('')
  $('me').textContent = 'sending 20 requests…'

  const results = await Promise.allSettled(Array.from({ length: 20 }, () => api.get('/api/me')))
  const ok = results.filter((r) => r.status === 'fulfilled').length
  $('me').textContent = `${ok} of 20 succeeded`
})

$('logout').addEventListener('click', async () => {
  // Tell the server first (it revokes the session of the token we send),
  // then forget the tokens here; the logout holds even if the server is down.
  await api.post('/auth/logout', null, { skipRefresh: true, timeout: 3000 }).catch(() => {})
  api.auth.clear()
  $('me').textContent = ''
  render()
})

await api.ready
render()
document.body.dataset.ready = 'true'
if (api.auth.isAuthenticated()) loadProfile().catch(() => {})
