// The Go + JavaScript demo: a Go program (example-site/gowasm, built to
// /go/app.wasm) and a JavaScript jwtfetch instance share one session.
import { create, isJwtFetchError } from '/jsglue/jwtfetch.js' // also defines globalThis.Go

const $ = (id) => document.getElementById(id)

// The JavaScript side: the same storageKey ('jwtfetch', the default) as
// the Go side.
export const api = create({ baseURL: '/', auth: { refreshURL: '/auth/refresh' } })

function log(who, name, detail = '') {
  const li = document.createElement('li')
  li.textContent = `${new Date().toLocaleTimeString()} ${who}: ${name}${detail}`
  $('events').prepend(li)
  render()
}
for (const ev of ['tokens', 'refresh', 'expired']) api.auth.on(ev, () => log('JavaScript', ev))

// The Go side: the page hands the program a namespace object; the program
// puts its functions on it and calls ready().
const goReady = new Promise((resolve) => {
  globalThis.goApp = {
    ready: resolve,
    onEvent: (name, authenticated, fromOtherTab) => log('Go', name, fromOtherTab ? ' (made elsewhere)' : ''),
  }
})
export const goApp = globalThis.goApp
const go = new globalThis.Go()
WebAssembly.instantiateStreaming(fetch('/go/app.wasm'), go.importObject)
  .then(({ instance }) => go.run(instance))
  .catch((e) => show(`the Go program did not start: ${e}`))

// For the end-to-end tests and for playing in the console.
window.api = api
window.goApp = goApp

function show(msg) {
  $('error').textContent = msg
}

function render() {
  const signedIn = goApp.isAuthenticated?.() ?? api.auth.isAuthenticated()
  $('login-form').hidden = signedIn
  $('profile').hidden = !signedIn
  $('state').textContent = signedIn ? 'signed in' : 'signed out'
}

async function run(fn) {
  show('')
  try {
    $('me').textContent = await fn()
  } catch (e) {
    show(isJwtFetchError(e) || e.code ? `${e.code}: ${e.message}` : String(e))
  }
  render()
}

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault()
  run(async () => {
    await goApp.login($('username').value, $('password').value)
    const me = await goApp.me()
    return `Go: ${me.status} ${me.user}`
  })
})
$('load-go').addEventListener('click', () =>
  run(async () => {
    const me = await goApp.me()
    return `Go: ${me.status} ${me.user}`
  }),
)
$('load-js').addEventListener('click', () =>
  run(async () => {
    const { status, data } = await api.get('/api/me')
    return `JavaScript: ${status} ${data.user}`
  }),
)
$('burst').addEventListener('click', () =>
  run(async () => {
    const [fromGo, fromJS] = await Promise.all([
      goApp.burst(10),
      Promise.allSettled(Array.from({ length: 10 }, () => api.get('/api/me'))).then(
        (rs) => rs.filter((r) => r.status === 'fulfilled').length,
      ),
    ])
    return `Go: ${fromGo} of 10, JavaScript: ${fromJS} of 10 succeeded`
  }),
)
$('logout-go').addEventListener('click', () => run(() => goApp.logout().then(() => '')))
$('logout-js').addEventListener('click', () =>
  run(async () => {
    await api.post('/auth/logout', null, { skipRefresh: true, timeout: 3000 }).catch(() => {})
    api.auth.clear()
    return ''
  }),
)

await Promise.all([api.ready, goReady])
render()
document.body.dataset.ready = 'true'
