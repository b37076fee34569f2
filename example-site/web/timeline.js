// timeline.js draws what the demo page sends, so that what jwtfetch does is
// visible: each request the page makes through the instance is one row with
// its attempts (which token it carried, the 401, the wait for the refresh,
// the retry with the new token), and each refresh request is a row of its
// own. None of this is needed to use jwtfetch.
//
// How it sees the requests: wire.js wraps window.fetch before jwtfetch is
// imported, so every request the page sends, the refresh included, goes
// through it; a request interceptor tags each request made through the
// instance with an X-Demo-Request header, so its attempts can be told apart
// from the others'; a response interceptor sees how it ended. Tokens are
// shown as "token #n" in the order this page met them, never as text. With
// auth.dpop, each attempt's DPoP proof is "proof #n" with the claims a
// reader can check (htm, the htu path, whether ath is there, the nonce
// shortened), and a nonce challenge is shown with the retry it causes.

const MAX_GROUPS = 30 // requests kept on the page; older rows go
const MAX_ACTS = 12
const TAG = 'X-Demo-Request'

// claims decodes a JWT's payload without verifying it (the server does),
// or returns null.
export function claims(token) {
  try {
    const b64 = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')
    const json = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)))
    return JSON.parse(json)
  } catch {
    return null
  }
}

const present = (c) => c !== null && c !== undefined && c !== false

// el makes an element with a class and text or children.
function el(tag, className, ...children) {
  const e = document.createElement(tag)
  if (className) e.className = className
  e.append(...children.filter(present))
  return e
}

// fill replaces e's children, leaving out the absent ones (replaceChildren
// would write null as "null").
function fill(e, ...children) {
  e.replaceChildren(...children.filter(present))
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`

// short shortens a value that is not secret but long: a nonce, a thumbprint.
export const short = (v) => (v.length > 8 ? `${v.slice(0, 6)}…` : v)

// proofData puts what the page shows of proof p on element e, for tests.
function proofData(e, p) {
  if (!p) return
  Object.assign(e.dataset, { proof: p.label, htm: p.htm, htu: p.htu, ath: String(p.ath), nonce: p.nonce ? short(p.nonce) : '' })
}

// The error of a DPoP challenge that asks for a new proof with the nonce.
const USE_NONCE = 'use_dpop_nonce'

// What the page shows next to an error code.
const codeMeaning = {
  ECONNABORTED: 'the refresh took too long; still signed in',
  ERR_AUTH_EXPIRED: 'the session is over',
  ERR_NETWORK: 'network error',
  ERR_CANCELED: 'canceled',
}

export class Timeline {
  // api is the jwtfetch instance to watch, list the <ol> to draw into.
  constructor(api, list, { refreshPath = '/auth/refresh' } = {}) {
    this.api = api
    this.list = list
    this.refreshPath = refreshPath
    this.labels = new Map() // token → its number, in memory only
    this.proofs = new Map() // proof's jti → its number
    this.groups = new Map() // request id → group
    this.byWire = new Map() // wire id → attempt or refresh in flight
    this.refreshes = [] // refresh rows, to tell who waited for one
    this.acts = []
    this.act = null
    this.nextId = 0

    api.interceptors.request.use((config) => {
      const g = this.group(String(++this.nextId), config.method, config.url)
      return { ...config, headers: { ...config.headers, [TAG]: g.id } }
    })
    api.interceptors.response.use(
      (res) => {
        this.finish(res.config?.headers?.[TAG], { status: res.status })
        return res
      },
      (err) => {
        this.finish(err?.config?.headers?.[TAG], { code: err?.code ?? 'error', status: err?.response?.status })
        throw err
      },
    )
    // Number each token as the session gets it, before any request carries it.
    api.auth.on('tokens', () => this.label(api.auth.accessToken()))
    window.demoWire?.on((e) => this.wire(e))
    setInterval(() => this.tick(), 250)
  }

  // label names a token "token #n"; the same token always gets the same n.
  label(token) {
    if (!token) return 'no token'
    let n = this.labels.get(token)
    if (!n) this.labels.set(token, (n = this.labels.size + 1))
    return `token #${n}`
  }

  // proof reads a DPoP proof (a JWT whose claims are not secret) as what
  // the timeline shows of it: "proof #n", the same n for the same proof,
  // and its claims. null when there is no proof.
  proof(jwt) {
    if (!jwt) return null
    const c = claims(jwt) ?? {}
    const id = c.jti ?? jwt
    let n = this.proofs.get(id)
    if (!n) this.proofs.set(id, (n = this.proofs.size + 1))
    let htu = String(c.htu ?? '?')
    try {
      const u = new URL(htu)
      htu = u.origin === location.origin ? u.pathname : u.origin + u.pathname
    } catch {}
    return { label: `proof #${n}`, htm: c.htm ?? '?', htu, ath: typeof c.ath === 'string', nonce: c.nonce ?? null }
  }

  // proofChip shows a proof's readable claims.
  proofChip(p) {
    if (!p) return null
    const c = el('span', 'claims', `htm ${p.htm} · htu ${p.htu} · ${p.ath ? 'ath ✓' : 'no ath'}`)
    if (p.nonce) c.append(' · nonce ', el('b', null, short(p.nonce)))
    c.title = `the claims of ${p.label}: htm and htu name the request, ath is the hash of the token it goes with, nonce the server's`
    return c
  }

  // begin starts a new block of rows: what the user did and what to look
  // for. Later requests and refreshes go into it.
  begin(title, hint, name = '') {
    const rows = el('ol', 'rows')
    const li = el('li', 'act', el('div', 'act-title', el('strong', null, title), hint ? el('span', 'hint', hint) : null), rows)
    li.dataset.act = name
    this.list.prepend(li)
    this.act = { li, rows, groups: [] }
    this.acts.push(this.act)
    while (this.acts.length > MAX_ACTS) this.drop(this.acts[0])
    return this.act
  }

  // note adds a line of explanation to the current block.
  note(text, kind = '') {
    const li = el('li', `note ${kind}`, text)
    this.current().rows.append(li)
    return li
  }

  current() {
    return this.act ?? this.begin('Page opened', '')
  }

  drop(act) {
    act.li.remove()
    for (const g of act.groups) this.groups.delete(g.id)
    this.acts.splice(this.acts.indexOf(act), 1)
    if (this.act === act) this.act = null
  }

  // group starts the row of one request.
  group(id, method, url) {
    const act = this.current()
    const g = {
      id,
      method: String(method ?? 'get').toUpperCase(),
      path: String(url ?? ''),
      created: performance.now(),
      attempts: [],
      final: null,
      li: el('li', 'group'),
      act,
    }
    g.li.dataset.request = id
    this.groups.set(id, g)
    act.groups.push(g)
    act.rows.append(g.li)
    // Bounded: the oldest requests leave the page.
    let total = 0
    for (const a of this.acts) total += a.groups.length
    while (total-- > MAX_GROUPS) {
      const oldest = this.acts.find((a) => a.groups.length > 0)
      const old = oldest.groups.shift()
      old.li.remove()
      this.groups.delete(old.id)
    }
    this.drawGroup(g)
    return g
  }

  // finish records how a request ended: a status, or an error code.
  finish(id, final) {
    const g = this.groups.get(id)
    if (!g) return
    g.final = { ...final, at: performance.now() }
    this.drawGroup(g)
  }

  // overlapped reports whether a refresh of this page ran between from and to.
  overlapped(from, to) {
    return this.refreshes.some((r) => r.start < to && (r.end ?? Infinity) > from)
  }

  refreshing() {
    return this.refreshes.some((r) => r.end === null)
  }

  wire(e) {
    if (e.type === 'send') return this.sent(e)
    const item = this.byWire.get(e.id)
    if (!item) return
    this.byWire.delete(e.id)
    item.end = e.at
    if (e.type === 'answer') item.status = e.status
    else item.error = e.error
    // Known a moment later (a 400's body is read): until then undefined.
    item.challenge = e.type === 'answer' ? undefined : null
    ;(e.challenge ?? Promise.resolve(null)).then((c) => {
      item.challenge = c
      if (item.kind === 'refresh') this.drawRefresh(item)
      else this.drawGroup(item.group)
    })
    const token = e.token ?? Promise.resolve(null) // a login's or refresh's new token
    if (item.kind === 'refresh') {
      // Who waits for this refresh now: requests that got a 401 and were
      // not sent again yet, and requests not sent yet.
      item.waiters = [...this.groups.values()].filter((g) => this.waiting(g)).length
      token.then((t) => {
        if (t) item.result = this.label(t)
        this.drawRefresh(item)
      })
      this.drawRefresh(item)
      for (const g of this.groups.values()) if (this.waiting(g)) this.drawGroup(g)
    } else {
      token.then((t) => {
        if (t) item.result = this.label(t)
        this.drawGroup(item.group)
      })
      this.drawGroup(item.group)
    }
  }

  sent(e) {
    if (e.method === 'POST' && e.path === this.refreshPath) {
      const r = { kind: 'refresh', start: e.at, end: null, status: null, error: null, proof: this.proof(e.dpop), li: el('li', 'refresh') }
      this.refreshes.push(r)
      if (this.refreshes.length > 50) this.refreshes.shift()
      this.byWire.set(e.id, r)
      this.current().rows.append(r.li)
      this.drawRefresh(r)
      for (const g of this.groups.values()) if (this.waiting(g)) this.drawGroup(g)
      return
    }
    let g = e.tag ? this.groups.get(e.tag) : null
    if (!g) {
      // Only the demo API: not the runtime, the pages or /debug/.
      if (e.tag || !/^\/(api|auth)\//.test(e.path)) return
      g = this.group(`w${e.id}`, e.method, e.path)
      g.untagged = true
    }
    const prev = g.attempts.at(-1)
    const a = {
      kind: 'attempt',
      group: g,
      token: e.authorization ? this.label(e.authorization.replace(/^\S+\s+/, '')) : null,
      proof: this.proof(e.dpop),
      start: e.at,
      end: null,
      status: null,
      error: null,
      // Did it wait for a refresh of this page before going out?
      waited: this.overlapped(prev ? prev.end ?? e.at : g.created, e.at),
    }
    g.attempts.push(a)
    this.byWire.set(e.id, a)
    this.drawGroup(g)
  }

  // waiting reports whether g is held up: got its first 401 (not a nonce
  // challenge, which is sent again at once) and not sent again, or not sent
  // at all while a refresh runs.
  waiting(g) {
    if (g.final) return false
    const last = g.attempts.at(-1)
    if (!last) return this.refreshing()
    if (last.status !== 401 || last.challenge === undefined || last.challenge === USE_NONCE) return false
    return g.attempts.filter((a) => a.status === 401 && a.challenge !== USE_NONCE).length === 1
  }

  drawGroup(g) {
    if (!g.li.isConnected) return
    const steps = []
    g.attempts.forEach((a, i) => {
      if (i === 0 && a.waited) steps.push(el('span', 'step wait', 'waited for a refresh first'))
      const challenged = i > 0 && g.attempts[i - 1].challenge === USE_NONCE
      if (challenged) steps.push(el('span', 'step wait', 'at once, with the nonce:'))
      else if (i > 0) {
        steps.push(
          a.waited
            ? el('span', 'step wait', 'waited for the refresh')
            : el('span', 'step wait', 'no wait: the token was already replaced'),
        )
      }
      const outcome = a.status === null ? a.error ?? '…' : a.challenge ? `${a.status} ${a.challenge}` : a.status
      const kind = a.status === null ? 'pending' : a.status < 400 ? 'ok' : a.challenge === USE_NONCE ? 'challenge' : 'bad'
      const s = el('span', `step attempt ${kind}`)
      s.append(`${i === 0 ? 'sent with' : challenged ? 'sent again with' : 'retried with'} `, el('b', null, a.token ?? 'no token'))
      if (a.proof) s.append(' + ', el('b', null, a.proof.label))
      s.append(` → ${outcome}`)
      if (a.result) s.append(': ', el('b', null, a.result))
      s.dataset.token = a.token ?? ''
      s.dataset.status = String(a.status ?? a.error ?? '')
      proofData(s, a.proof)
      if (a.challenge) s.dataset.challenge = a.challenge
      steps.push(s, this.proofChip(a.proof))
    })
    if (this.waiting(g)) steps.push(el('span', 'step wait live', 'waiting for the refresh…'))
    const last = g.attempts.at(-1)
    if (g.final?.code && last?.status === 401 && this.overlapped(last.end, g.final.at)) {
      steps.push(el('span', 'step wait', 'waited for the refresh'))
    }
    let final = null
    if (g.final) {
      const ok = g.final.code === undefined
      final = el('span', `final ${ok ? 'ok' : 'bad'}`, ok ? `✓ ${g.final.status}` : `✗ ${g.final.code}`)
      if (!ok && codeMeaning[g.final.code]) final.append(el('small', null, ` ${codeMeaning[g.final.code]}`))
      g.li.dataset.final = ok ? String(g.final.status) : g.final.code
    }
    fill(g.li, el('span', 'rid', `#${g.id.replace(/^w/, '')}`), el('span', 'req', `${g.method} ${g.path}`), ...steps, final)
  }

  drawRefresh(r) {
    const timeout = this.api.defaults.auth?.refreshTimeout ?? 10000
    let outcome, kind
    if (r.end === null) {
      outcome = `pending ${seconds(performance.now() - r.start)}…`
      kind = 'pending'
    } else if (r.error) {
      outcome = r.error === 'aborted' ? `no answer: jwtfetch gave up (refreshTimeout ${seconds(timeout)})` : r.error
      kind = 'bad'
    } else if (r.status >= 200 && r.status < 300) {
      outcome = `${r.status}: ${r.result ?? 'new token'}`
      kind = 'ok'
    } else if (r.challenge === USE_NONCE) {
      outcome = `${r.status} ${USE_NONCE}: sent again at once, a new proof with the nonce`
      kind = 'challenge'
    } else if (r.challenge === undefined) {
      outcome = `${r.status}`
      kind = 'pending'
    } else {
      const refused = [400, 401, 403].includes(r.status)
      outcome = `${r.status}: ${refused ? 'refused, the session is over' : 'failed, the session is kept'}`
      kind = 'bad'
    }
    r.li.dataset.status = r.end === null ? 'pending' : String(r.error ?? r.status)
    if (r.challenge) r.li.dataset.challenge = r.challenge
    proofData(r.li, r.proof)
    const took = r.end === null ? null : el('span', 'took', `· after ${Math.round(r.end - r.start)} ms`)
    // After a nonce challenge they wait for the refresh sent again, not this one.
    const waited = r.waiters && r.challenge !== USE_NONCE ? el('span', 'took', `· ${r.waiters} request${r.waiters === 1 ? '' : 's'} waited for it`) : null
    fill(
      r.li,
      el('span', 'rid', '↻'),
      el('span', 'req', `POST ${this.refreshPath}`),
      el('span', `step attempt ${kind}`, r.proof ? el('b', null, r.proof.label) : null, `${r.proof ? ' ' : ''}→ ${outcome}`),
      this.proofChip(r.proof),
      took,
      waited,
    )
  }

  tick() {
    for (const r of this.refreshes) if (r.end === null && r.li.isConnected) this.drawRefresh(r)
  }
}

// countdown shows, every 250 ms, how long the access token has left and
// when jwtfetch will refresh it ahead of its expiry: a request made within
// `leeway` seconds of exp (default 30, at most half the token's lifetime)
// refreshes first instead of sending a token about to fail.
export function countdown(api, timeline, root) {
  const text = root.querySelector('.countdown-text')
  const fill = root.querySelector('.fill')
  const mark = root.querySelector('.mark')
  const draw = () => {
    const token = api.auth.accessToken()
    const c = token ? claims(token) : null
    root.hidden = !c?.exp
    if (root.hidden) return
    const life = c.iat ? c.exp - c.iat : null
    const leeway = Math.min(api.defaults.auth?.leeway ?? 30, life ? life / 2 : Infinity)
    const left = c.exp - Date.now() / 1000
    const ahead = left - leeway
    const name = timeline.label(token)
    let when
    if (left <= 0) when = `It expired ${(-left).toFixed(1)} s ago: the next request refreshes first.`
    else if (ahead <= 0) when = 'It is within the leeway: the next request refreshes first.'
    else when = `From ${leeway.toFixed(0)} s before that (in ${ahead.toFixed(1)} s), the next request refreshes it first.`
    text.replaceChildren(
      el('b', null, name),
      ` expires in `,
      el('b', 'left', left > 0 ? `${left.toFixed(1)} s` : 'no time'),
      `. ${when}`,
      el('small', null, ` (leeway: ${api.defaults.auth?.leeway ?? 30} s, at most half of its ${life ? life.toFixed(0) + ' s ' : ''}life)`),
    )
    if (life) {
      fill.style.width = `${Math.max(0, Math.min(100, (left / life) * 100))}%`
      mark.style.left = `${(leeway / life) * 100}%`
    }
    root.classList.toggle('in-leeway', ahead <= 0)
  }
  draw()
  setInterval(draw, 250)
}
