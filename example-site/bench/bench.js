// The benchmark page: every candidate client, and the workloads the Go
// runner (main.go) calls through window.bench. With ?cold=NAME the page
// instead times one cold start: from import() of the library to the first
// authenticated response.
//
// Each candidate does the same thing: GET /api/me with the access token,
// parse the JSON body, and (except raw fetch) refresh on a 401 and retry.
// Peers are wired the way their READMEs show.

const API = '/api/me'

async function login() {
  const r = await fetch('/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'demo', password: 'demo123' }),
  })
  if (!r.ok) throw new Error(`login: HTTP ${r.status}`)
  return r.json() // { access, refresh, expires_in }
}

// Tokens in localStorage, as the peers' READMEs keep them.
function store(prefix, access, refresh) {
  localStorage.setItem(prefix + 'access', access)
  localStorage.setItem(prefix + 'refresh', refresh)
}

// jwtfetch instances, by candidate name, so a new setup can destroy the old.
const jwtfetchInstances = {}

function jwtfetchCandidate(name, useFetch) {
  return {
    load: () => import('/jsglue/jwtfetch.js'),
    make(m, t, tag) {
      jwtfetchInstances[name]?.destroy()
      const api = m.create({ auth: { refreshURL: '/auth/refresh', storageKey: `bench-${tag}-${name}` } })
      jwtfetchInstances[name] = api
      api.auth.setTokens({ accessToken: t.access, refreshToken: t.refresh })
      if (useFetch) {
        return async () => {
          const r = await api.fetch(API)
          await r.json()
          return r.status
        }
      }
      return async () => (await api.get(API)).status
    },
  }
}

// Each candidate: load() imports the library, make(module, tokens, tag)
// returns get(), which resolves with the HTTP status (body read) or rejects.
export const candidates = {
  fetch: {
    load: async () => null,
    make(_, t) {
      const token = t.access
      return async () => {
        const r = await fetch(API, { headers: { Authorization: `Bearer ${token}` } })
        await r.json()
        return r.status
      }
    },
  },

  'axios-auth-refresh': {
    load: () => import('/gen/axios-auth-refresh.js'),
    make({ axios, createAuthRefresh }, t) {
      const k = 'bench-aar:'
      store(k, t.access, t.refresh)
      const api = axios.create()
      api.interceptors.request.use((c) => {
        c.headers.Authorization = `Bearer ${localStorage.getItem(k + 'access')}`
        return c
      })
      createAuthRefresh(api, (failed) =>
        axios.post('/auth/refresh', { refresh: localStorage.getItem(k + 'refresh') }).then((r) => {
          store(k, r.data.access, r.data.refresh)
          failed.response.config.headers.Authorization = `Bearer ${r.data.access}`
        }),
      )
      return async () => (await api.get(API)).status
    },
  },

  'axios-jwt': {
    load: () => import('/gen/axios-jwt.js'),
    async make({ axios, applyAuthTokenInterceptor, setAuthTokens }, t) {
      const api = axios.create()
      applyAuthTokenInterceptor(api, {
        requestRefresh: async (refresh) => {
          const r = await axios.post('/auth/refresh', { refresh })
          return { accessToken: r.data.access, refreshToken: r.data.refresh }
        },
      })
      await setAuthTokens({ accessToken: t.access, refreshToken: t.refresh })
      return async () => (await api.get(API)).status
    },
  },

  // The afterResponse hook from ky's readme, plus the usual shared promise
  // so that requests failing together wait for one refresh.
  ky: {
    load: () => import('/gen/ky.js'),
    make({ ky }, t) {
      const k = 'bench-ky:'
      store(k, t.access, t.refresh)
      let refreshing = null
      const refresh = () =>
        (refreshing ??= ky
          .post('/auth/refresh', { json: { refresh: localStorage.getItem(k + 'refresh') } })
          .json()
          .then((d) => {
            store(k, d.access, d.refresh)
            return d.access
          })
          .finally(() => {
            refreshing = null
          }))
      const api = ky.create({
        hooks: {
          beforeRequest: [
            ({ request }) => {
              request.headers.set('Authorization', `Bearer ${localStorage.getItem(k + 'access')}`)
            },
          ],
          afterResponse: [
            async ({ request, response, retryCount }) => {
              if (response.status === 401 && retryCount === 0) {
                const token = await refresh()
                const headers = new Headers(request.headers)
                headers.set('Authorization', `Bearer ${token}`)
                return ky.retry({ request: new Request(request, { headers }), delay: 0, code: 'TOKEN_REFRESHED' })
              }
            },
          ],
        },
      })
      return async () => {
        const r = await api.get(API)
        await r.json()
        return r.status
      }
    },
  },

  'jwtfetch-fetch': jwtfetchCandidate('jwtfetch-fetch', true),
  'jwtfetch-get': jwtfetchCandidate('jwtfetch-get', false),
}

// one runs get() once and says whether it was a 200; other outcomes are
// counted in fails by status or error name.
async function one(get, fails) {
  try {
    const status = await get()
    if (status === 200) return true
    fails[`HTTP ${status}`] = (fails[`HTTP ${status}`] ?? 0) + 1
  } catch (e) {
    const why = e?.response?.status ? `HTTP ${e.response.status}` : (e?.code ?? String(e).slice(0, 100))
    fails[why] = (fails[why] ?? 0) + 1
  }
  return false
}

const gets = {}
const modules = {}

const bench = {
  // setup logs in (a token family of the candidate's own), makes a fresh
  // client and warms it up. A client that cannot be made fails every
  // request with the reason.
  async setup(name, warm = 50) {
    const c = candidates[name]
    try {
      modules[name] ??= await c.load()
      gets[name] = await c.make(modules[name], await login(), 'page')
    } catch (e) {
      const why = `setup: ${e}`
      gets[name] = async () => {
        throw new Error(why)
      }
    }
    const fails = {}
    let ok = 0
    for (let i = 0; i < warm; i++) if (await one(gets[name], fails)) ok++
    return { ok, fails }
  },

  // sequential: n requests one after another; the time of each that
  // succeeded, in ms.
  async sequential(name, n) {
    const get = gets[name]
    const fails = {}
    const times = []
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      if (await one(get, fails)) times.push(performance.now() - t0)
    }
    return { times, ok: times.length, fails }
  },

  // marked: sequential between performance.mark(`${tag}:start`) and
  // performance.mark(`${tag}:end`), which the runner finds in a trace to
  // sum the main thread's tasks in between.
  async marked(name, n, tag) {
    performance.mark(`${tag}:start`)
    const r = await bench.sequential(name, n)
    performance.mark(`${tag}:end`)
    return r
  },

  // idle: the same marks around ms of doing nothing, for the page's
  // background main-thread work.
  async idle(ms, tag) {
    performance.mark(`${tag}:start`)
    await new Promise((r) => setTimeout(r, ms))
    performance.mark(`${tag}:end`)
    return { ok: 0, times: [], fails: {} }
  },

  // concurrent: n requests, at most inflight at a time.
  async concurrent(name, n, inflight) {
    const get = gets[name]
    const fails = {}
    let next = 0
    let ok = 0
    const worker = async () => {
      while (next < n) {
        next++
        if (await one(get, fails)) ok++
      }
    }
    const t0 = performance.now()
    await Promise.all(Array.from({ length: inflight }, worker))
    return { ms: performance.now() - t0, ok, fails }
  },

  // storm: n requests at once (the runner revoked the access token first).
  async storm(name, n) {
    const get = gets[name]
    const fails = {}
    const t0 = performance.now()
    const oks = await Promise.all(Array.from({ length: n }, () => one(get, fails)))
    return { ms: performance.now() - t0, ok: oks.filter(Boolean).length, fails }
  },
}
globalThis.bench = bench

// loaded sums the body bytes (encoded, as sent) and the bytes over the
// wire (transferSize: headers and body; a few hundred for a 304, 0 from the
// cache without a request) of the files fetched since t0, API calls left out.
function loaded(t0) {
  const files = performance
    .getEntriesByType('resource')
    .filter((e) => e.startTime >= t0 && !new URL(e.name).pathname.startsWith('/api/'))
  return {
    bytes: files.reduce((n, e) => n + e.encodedBodySize, 0),
    transfer: files.reduce((n, e) => n + e.transferSize, 0),
  }
}

// coldGet is the client of the cold start, for coldUse.
let coldGet = null

// cold times one cold start of candidate name in this fresh page. The
// login happens before the clock starts; go-floor is the bare Go wasm.
async function cold(name) {
  if (name === 'go-floor') {
    const t0 = performance.now()
    await import('/jsglue/wasm_exec.js')
    const go = new globalThis.Go()
    const ready = new Promise((resolve) => (globalThis.__floorReady = resolve))
    const { instance } = await WebAssembly.instantiateStreaming(fetch('/gen/floor.wasm'), go.importObject)
    go.run(instance)
    const f = await ready
    const ms = performance.now() - t0
    coldGet = async () => {
      f()
      return 200
    }
    return { ms, ok: true, ...loaded(t0) }
  }
  const c = candidates[name]
  const tokens = await login()
  const t0 = performance.now()
  const get = await c.make(await c.load(), tokens, 'cold')
  const fails = {}
  const ok = await one(get, fails)
  const ms = performance.now() - t0
  coldGet = get
  return { ms, ok, fails, ...loaded(t0) }
}

// coldUse keeps using the client of the cold start for ms, as a visit
// would: the runner calls it on the visits that warm the caches, so that
// V8 optimizes the hot wasm functions (its code cache holds optimized code
// only). Resolves with the number of calls.
globalThis.coldUse = async (ms) => {
  const end = performance.now() + ms
  let n = 0
  while (coldGet && performance.now() < end) {
    await coldGet()
    n++
  }
  return n
}

const coldName = new URLSearchParams(location.search).get('cold')
if (coldName) {
  globalThis.coldResult = cold(coldName).catch((e) => ({ ok: false, fails: { [String(e)]: 1 } }))
}
document.body.dataset.ready = 'true'
