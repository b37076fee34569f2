// The vanilla demo: log in, call a protected API across token expiry, log
// out. This file is the jwtfetch usage; the timeline, the countdown and the
// lesson buttons (timeline.js, lessons.js) only make it visible.
//
// /?mode=cookie runs it in cookie mode: the server keeps the refresh token
// in an HttpOnly cookie (Path=/auth) and the access token stays in memory.
// Only create()'s options, the login and the logout differ.
//
// /?mode=dpop runs it in storage mode with DPoP (auth.dpop): the tokens are
// bound to a key pair whose private key no script can read, and every
// request carries a proof signed with it. Only create()'s options differ;
// the panels show the binding and the key.
import { create, isJwtFetchError } from '/jsglue/jwtfetch.js'
import { Timeline, claims, countdown, short } from './timeline.js'
import { setupLessons } from './lessons.js'

const $ = (id) => document.getElementById(id)
const mode = new URLSearchParams(location.search).get('mode')
const cookieMode = mode === 'cookie'
const dpopMode = mode === 'dpop'
const STORAGE_KEY = 'jwtfetch-dpop' // DPoP mode's; its key is the IndexedDB record `${STORAGE_KEY}:dpop`

if (dpopMode && !globalThis.crypto?.subtle) {
  // create() would throw: say why on the page.
  $('state').textContent = 'DPoP mode needs WebCrypto, which browsers give only to https pages and http://localhost or 127.0.0.1.'
}

export const api = create({
  baseURL: '/',
  auth: {
    refreshURL: '/auth/refresh', // in cookie mode POSTed with the cookie and the X-XSRF-TOKEN header
    ...(cookieMode && {
      mode: 'cookie',
      logoutURL: '/auth/logout', // clear() POSTs it: the server revokes the session and deletes the cookie
      storageKey: 'jwtfetch-cookie', // apart from the storage-mode session on this origin
    }),
    ...(dpopMode && {
      dpop: true, // a proof with every request, signed by a key kept in IndexedDB
      storageKey: STORAGE_KEY, // apart from the other sessions on this origin
    }),
    // Short, so that the "refresh hangs" lesson ends quickly: after 4 s the
    // requests waiting for a refresh reject with ECONNABORTED.
    refreshTimeout: 4000,
    onExpired: () => show('session expired; please log in again'),
  },
})
// Exposed for the end-to-end tests and for playing in the console.
window.api = api

const timeline = new Timeline(api, $('timeline'))

for (const a of document.querySelectorAll('nav a[data-mode]')) {
  if (a.dataset.mode === (mode ?? 'storage')) a.setAttribute('aria-current', 'page')
}
if (!dpopMode) for (const e of document.querySelectorAll('.dpop-only')) e.remove()
if (cookieMode) {
  document.title = 'jwtfetch demo: cookie mode'
  $('title').textContent = 'jwtfetch demo: cookie mode'
  $('readable-note').append(' In cookie mode there is no token here: the refresh cookie is HttpOnly.')
}
if (dpopMode) {
  document.title = 'jwtfetch demo: DPoP mode'
  $('title').textContent = 'jwtfetch demo: DPoP mode'
  document.querySelector('.lead').append(
    ' In DPoP mode each attempt also carries a proof (proof #n) signed with a key no script can read: a stolen token alone is refused.',
  )
  $('readable-note').append(
    ' In DPoP mode the tokens are here too, but useless without the private key: IndexedDB keeps it as a CryptoKey ' +
      'that signs in this page and cannot be read (extractable: false).',
  )
}

// showReadable lists what any script of this page can read, with token
// values replaced by their length: in storage mode both tokens are there, in
// cookie mode a marker and the XSRF cookie, which is no credential; in DPoP
// mode the tokens and, in IndexedDB, the key that makes them usable.
function showReadable() {
  const hide = (v) => (typeof v === 'string' && v.length > 24 ? `<${v.length} characters>` : JSON.stringify(v))
  const describe = (value) => {
    try {
      const o = JSON.parse(value)
      if (o && typeof o === 'object') return `{ ${Object.entries(o).map(([k, v]) => `${k}: ${hide(v)}`).join(', ')} }`
    } catch {}
    return hide(value)
  }
  const lines = []
  for (const [name, s] of [['localStorage', localStorage], ['sessionStorage', sessionStorage]]) {
    for (let i = 0; i < s.length; i++) lines.push(`${name} ${s.key(i)} = ${describe(s.getItem(s.key(i)))}`)
  }
  for (const c of document.cookie.split('; ').filter(Boolean)) {
    const i = c.indexOf('=')
    lines.push(`cookie ${c.slice(0, i)} = ${hide(c.slice(i + 1))}`)
  }
  if (dpopMode) {
    // What the tabs share in IndexedDB, the DPoP key among it: a CryptoKey
    // is shown by its properties, which is all a script can learn of it.
    const value = (v, depth = 0) => {
      if (v instanceof CryptoKey) {
        const alg = [v.algorithm.name, v.algorithm.namedCurve].filter(Boolean).join(' ')
        return `CryptoKey { ${v.type} ${alg}, extractable: ${v.extractable}, usages: ${v.usages.join(' ')} }`
      }
      if (v && typeof v === 'object' && depth < 2) return `{ ${Object.entries(v).map(([k, w]) => `${k}: ${value(w, depth + 1)}`).join(', ')} }`
      return hide(v)
    }
    for (const [key, v] of idbRecords) lines.push(`indexedDB ${IDB}/${IDB_STORE} ${key} = ${value(v)}`)
  }
  $('readable').textContent = lines.join('\n') || '(nothing)'
}

// The IndexedDB database and store jwtfetch keeps the shared session and
// the DPoP key in (jsglue/jwtfetch.js); opened the way it opens them, so
// that reading never gets in its way.
const IDB = 'jwtfetch'
const IDB_STORE = 'sessions'
let idbRecords = [] // [key, value] of the store, for showReadable

async function readIDB() {
  const req = (r) =>
    new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error)
    })
  const open = indexedDB.open(IDB, 1)
  open.onupgradeneeded = () => open.result.createObjectStore(IDB_STORE)
  const db = await req(open)
  try {
    const store = db.transaction(IDB_STORE, 'readonly').objectStore(IDB_STORE)
    const [keys, values] = await Promise.all([req(store.getAllKeys()), req(store.getAll())])
    idbRecords = keys.map((k, i) => [String(k), values[i]])
  } finally {
    db.close()
  }
}

// keyThumbprint is the RFC 7638 thumbprint of the public key of this
// page's DPoP key (in IndexedDB), the value the server puts in the access
// token's cnf.jkt when it binds the tokens to that key; null if none.
async function keyThumbprint() {
  const pair = idbRecords.find(([k]) => k === `${STORAGE_KEY}:dpop`)?.[1]
  if (!(pair?.publicKey instanceof CryptoKey)) return null
  const { crv, kty, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey)
  const canonical = JSON.stringify({ crv, kty, x, y }) // members in lexical order, no white space
  const sum = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical)))
  return btoa(String.fromCharCode(...sum)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

// The token_type of the last login or refresh answer (wire.js sees them,
// the refresh the wasm sends included).
let tokenType = null
window.demoWire?.on((e) => {
  if (e.type !== 'answer' || !e.tokenType) return
  e.tokenType.then((t) => {
    if (!t) return
    tokenType = t
    showBinding()
  })
})

// showBinding says, in DPoP mode, what the tokens are bound to: the access
// token's cnf.jkt, and whether it is the thumbprint of this page's key.
async function showBinding() {
  if (!dpopMode) return
  const p = $('binding')
  const token = api.auth.accessToken()
  const jkt = token ? claims(token)?.cnf?.jkt : null
  p.hidden = !token
  if (!token) return
  await readIDB().catch(() => {})
  const mine = await keyThumbprint().catch(() => null)
  const b = (t) => Object.assign(document.createElement('b'), { textContent: t })
  const code = (t) => Object.assign(document.createElement('code'), { textContent: t })
  if (!jkt) {
    p.replaceChildren('Not DPoP-bound: the access token has no ', code('cnf.jkt'), '.')
    return
  }
  p.replaceChildren(
    'DPoP-bound tokens',
    ...(tokenType ? [' (', code(`token_type: "${tokenType}"`), ')'] : []),
    ': ',
    b(timeline.label(token)),
    '\'s ',
    code('cnf.jkt'),
    ' ',
    b(short(jkt)),
    mine === jkt ? ' is the thumbprint of this page\'s key.' : ' is not the thumbprint of the key in IndexedDB.',
  )
}

// refreshReadable reads IndexedDB again (DPoP mode) and redraws the panel.
async function refreshReadable() {
  if (dpopMode) await readIDB().catch(() => {})
  showReadable()
}
showReadable()
refreshReadable()
setInterval(refreshReadable, 1000)

// Events. A listener gets (name, detail): detail.authenticated tells whether
// a session is left after the change, detail.fromOtherTab whether another tab
// made it. A refresh reports 'tokens' and 'refresh' together, a refused
// refresh 'tokens' and 'expired', so the events of one change are gathered
// and logged as one line: login, refresh, logout or expired.
let change = null
let signedIn = false
for (const name of ['tokens', 'refresh', 'expired']) {
  api.auth.on(name, (name, detail) => {
    if (!change) {
      change = { names: new Set(), detail }
      setTimeout(logChange)
    }
    change.names.add(name)
    change.detail ??= detail
  })
}

function logChange() {
  const { names, detail } = change
  change = null
  const now = detail?.authenticated ?? api.auth.isAuthenticated()
  const elsewhere = detail?.fromOtherTab ?? false
  let what
  if (names.has('expired')) what = 'expired: the refresh was refused, logged out'
  else if (names.has('refresh')) what = 'refresh'
  else if (now) what = signedIn && elsewhere ? 'refresh' : 'login' // another tab's new token while signed in: its refresh
  else what = 'logout'
  const wasSignedIn = signedIn
  signedIn = now
  if (!now && !wasSignedIn && !names.has('expired')) return // nothing to tell
  logEvent(elsewhere ? `${what} in another tab` : what)
  render()
  // Signed in by another tab: this one has no profile yet.
  if (now && !wasSignedIn && elsewhere) loadProfile().catch(() => {})
}

function logEvent(text) {
  const li = document.createElement('li')
  li.dataset.event = text
  li.append(`${new Date().toLocaleTimeString()} `, Object.assign(document.createElement('b'), { textContent: text }))
  $('events').prepend(li)
  while ($('events').children.length > 50) $('events').lastChild.remove()
}

function show(msg) {
  $('error').textContent = msg
}

function render() {
  showReadable()
  const signedIn = api.auth.isAuthenticated()
  $('login-form').hidden = signedIn
  $('profile').hidden = !signedIn
  $('state').textContent = signedIn ? 'signed in' : 'signed out'
  // Who is signed in, from the access token's claims: known in every tab
  // without a request.
  $('user').textContent = (signedIn && claims(api.auth.accessToken())?.sub) || '?'
  if (!signedIn) $('me').textContent = ''
  showBinding()
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
  timeline.begin('Log in', 'The login goes without a token (skipAuth); its answer gives the first token.', 'login')
  try {
    const credentials = { username: $('username').value, password: $('password').value }
    if (cookieMode) {
      // The answer has the access token only; the refresh token comes as
      // an HttpOnly cookie that this page cannot read.
      const { data } = await api.post('/auth/login', { ...credentials, mode: 'cookie' }, { skipAuth: true })
      api.auth.setTokens({ accessToken: data.access, expiresIn: data.expires_in })
    } else {
      const { data } = await api.post('/auth/login', credentials, { skipAuth: true })
      api.auth.setTokens({ accessToken: data.access, refreshToken: data.refresh })
    }
    render()
    await loadProfile()
  } catch (e) {
    show(e.response?.status === 401 ? 'wrong user or password' : `${e.code}: ${e.message}`)
  }
})

$('load').addEventListener('click', () => {
  timeline.begin('Load profile', 'One request. Near the token\'s expiry it waits for a refresh first.', 'load')
  loadProfile().catch(() => {})
})

$('burst').addEventListener('click', async () => {
  show('')
  timeline.begin('20 requests at once', 'When the token is near its expiry: one refresh, then 20 requests with the new token.', 'burst')
  $('me').textContent = 'sending 20 requests…'

  const results = await Promise.allSettled(Array.from({ length: 20 }, () => api.get('/api/me')))
  const ok = results.filter((r) => r.status === 'fulfilled').length
  $('me').textContent = `${ok} of 20 succeeded`
})

$('logout').addEventListener('click', async () => {
  if (cookieMode) {
    timeline.begin('Log out', 'clear() forgets the access token here and in every tab and POSTs logoutURL: the server revokes the session and deletes the cookie.', 'logout')
  } else {
    timeline.begin('Log out', 'The server ends the session, then clear() forgets the tokens here and in every tab.', 'logout')
    // Tell the server first (it revokes the session of the token we send),
    // then forget the tokens here; the logout holds even if the server is down.
    await api.post('/auth/logout', null, { skipRefresh: true, timeout: 3000 }).catch(() => {})
  }
  api.auth.clear()
  render()
})

await api.ready
signedIn = api.auth.isAuthenticated()
render()
countdown(api, timeline, $('countdown'))
await setupLessons(api, timeline, $('lessons'))
document.body.dataset.ready = 'true'
if (api.auth.isAuthenticated()) loadProfile().catch(() => {})
