// lessons.js: buttons that make the demo server misbehave on purpose, so
// that the timeline shows what jwtfetch does about it, and the server's own
// counters. They use the server's /debug/* endpoints, which exist only when
// it runs with -debug (`make demo` does). None of this is needed to use
// jwtfetch.
import { claims } from './timeline.js'

const N = 5 // requests sent by the hang and refuse lessons

// debug calls one of the demo server's /debug/* endpoints.
async function debug(path) {
  const r = await fetch(path, { method: 'POST' })
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`)
}

// requests sends n GET /api/me at once, or one after the other, and says
// how they ended.
async function requests(api, n, { oneByOne = false } = {}) {
  let results = []
  if (oneByOne) {
    for (let i = 0; i < n; i++) results.push(...(await Promise.allSettled([api.get('/api/me')])))
  } else {
    results = await Promise.allSettled(Array.from({ length: n }, () => api.get('/api/me')))
  }
  const ok = results.filter((r) => r.status === 'fulfilled').length
  const codes = {}
  for (const r of results) if (r.status === 'rejected') codes[r.reason?.code] = (codes[r.reason?.code] ?? 0) + 1
  const failed = Object.entries(codes).map(([code, k]) => `, ${k} × ${code}`)
  return `${ok} of ${n} succeeded${failed.join('')}; ${api.auth.isAuthenticated() ? 'still signed in' : 'signed out'}`
}

// The lessons, by the id of their button. Each prepares the server, then
// sends requests through jwtfetch like any page would.
const lessons = {
  storm: {
    title: 'Revoke token on the server + 20 requests',
    async run(api, t) {
      await debug('/debug/revoke-access')
      t.note('server: every access token issued so far is revoked')
      return requests(api, 20)
    },
  },
  expire: {
    title: 'Expire now',
    async run(api, t) {
      await debug('/debug/revoke-access')
      t.note('server: the current access token is no longer accepted, whatever its exp says')
      return requests(api, 1)
    },
  },
  hang: {
    title: 'Refresh hangs',
    async run(api, t) {
      const timeout = api.defaults.auth?.refreshTimeout ?? 10000
      await debug(`/debug/refresh-delay?ms=${timeout * 2}&once=1`)
      await debug('/debug/revoke-access')
      t.note(`server: the next refresh answers after ${timeout * 2 / 1000} s; access tokens revoked`)
      return requests(api, N)
    },
    next: 'Now click Load profile: the next request refreshes again, and that refresh answers at once.',
  },
  // DPoP mode only (auth.dpop): the server's nonce (RFC 9449 section 8).
  nonce: {
    title: 'Server demands a nonce',
    async run(api, t) {
      // Twice: a nonce this page has not seen, and neither has it the one
      // before, which the server also accepts.
      await debug('/debug/dpop-nonce?on=1&rotate=1')
      await debug('/debug/dpop-nonce?on=1&rotate=1')
      t.note('server: nonce mode on, with a new nonce; a proof must carry it, and every answer tells it (DPoP-Nonce)')
      return requests(api, 2, { oneByOne: true })
    },
  },
  rotate: {
    title: 'Server rotates the nonce',
    async run(api, t) {
      await debug('/debug/dpop-nonce?on=1')
      t.note('server: nonce mode on. First one request, so that this page has the current nonce:')
      await requests(api, 1)
      await debug('/debug/dpop-nonce?on=1&rotate=1')
      await debug('/debug/dpop-nonce?on=1&rotate=1')
      t.note('server: two new nonces since; the one this page has is no longer accepted')
      return requests(api, 1)
    },
  },
  refuse: {
    title: 'Refresh refuses',
    async run(api, t) {
      await debug('/debug/refresh-failure?status=401&once=1')
      await debug('/debug/revoke-access')
      t.note('server: the next refresh answers 401 invalid_grant; access tokens revoked')
      return requests(api, N)
    },
  },
}

// freshToken refreshes first when the access token is within the leeway:
// there jwtfetch refreshes before sending anything, and no 401 would come.
async function freshToken(api, timeline) {
  const token = api.auth.accessToken()
  const c = token ? claims(token) : null
  if (!c?.exp || !c.iat) return
  const leeway = Math.min(api.defaults.auth?.leeway ?? 30, (c.exp - c.iat) / 2)
  if (c.exp - Date.now() / 1000 > leeway + 1.5) return
  timeline.note(
    `${timeline.label(token)} is within ${leeway.toFixed(0)} s of its expiry: jwtfetch would refresh before sending anything, ` +
      'and no request would get a 401. So a fresh token first:',
  )
  await api.auth.refresh()
}

// setupLessons wires the lesson buttons under root and polls the server's
// counters into root's .counters, or shows root's .no-debug note when the
// server has no /debug/ endpoints.
export async function setupLessons(api, timeline, root) {
  const buttons = [...root.querySelectorAll('button[data-lesson]')]
  const counters = root.querySelector('.counters')
  const poll = async () => {
    const r = await fetch('/debug/counters').catch(() => null)
    if (!r?.ok) return false
    const c = await r.json()
    for (const dd of counters.querySelectorAll('dd[data-counter]')) {
      const v = String(c[dd.dataset.counter] ?? 0) // the DPoP and cookie counters are left out while zero
      if (dd.textContent !== v) {
        dd.textContent = v
        dd.classList.remove('changed')
        void dd.offsetWidth // restart the highlight
        dd.classList.add('changed')
      }
    }
    return true
  }
  const available = await poll()
  root.querySelector('.no-debug').hidden = available
  root.querySelector('.with-debug').hidden = !available
  if (!available) return
  setInterval(() => {
    if (document.visibilityState === 'visible') poll()
  }, 1000)

  let running = false
  const enable = () => {
    for (const b of buttons) b.disabled = running || !api.auth.isAuthenticated()
  }
  api.auth.on('tokens', () => setTimeout(enable))
  enable()

  for (const b of buttons) {
    const lesson = lessons[b.dataset.lesson]
    b.addEventListener('click', async () => {
      running = true
      enable()
      timeline.begin(lesson.title, b.parentElement.querySelector('.hint')?.textContent, b.dataset.lesson)
      try {
        await freshToken(api, timeline)
        await debug('/debug/reset') // the counters start from zero for this lesson
        timeline.note(await lesson.run(api, timeline), 'summary')
        if (lesson.next) timeline.note(lesson.next)
      } catch (e) {
        timeline.note(`the lesson failed: ${e?.code ?? e?.message}`, 'bad')
      } finally {
        running = false
        enable()
        poll()
      }
    })
  }
}
