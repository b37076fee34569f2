// Type test for jwtfetch.d.ts: compiled with `tsc --noEmit` in `make test`.
// Lines marked @ts-expect-error must fail to compile; tsc reports them if
// they start compiling.
import jwtfetch, { create, load, isJwtFetchError, JwtFetchError, type JwtFetchResponse } from '../jwtfetch.js'

await load({ wasmURL: '/jsglue/jwtfetch.wasm' })

const api = create({
  baseURL: '/api',
  timeout: 5000,
  headers: { 'X-App': 'demo', common: { 'X-Common': '1' }, post: { 'X-Post': '1' } },
  auth: {
    refreshURL: '/auth/refresh',
    refreshStyle: 'oauth2',
    clientId: 'web',
    refreshOn: [401, 419],
    leeway: 10,
    refreshTimeout: 3000,
    storage: 'session',
    storageKey: 'app',
    origins: ['https://api.example.test'],
    crossTab: true,
    onExpired: () => {},
  },
})
await api.ready

interface Me {
  user: string
}
const me: JwtFetchResponse<Me> = await api.get<Me>('/me', { params: { q: 'x', ids: [1, 2] } })
const user: string = me.data.user
const status: number = me.status
const ct: string | undefined = me.headers['content-type']
const raw: Response = me.raw
await api.post('/items', { name: 'x' }, { skipRefresh: true })
await api.post('/upload', new FormData())
await api.put('/blob', new Blob(['x']), { responseType: 'blob' })
await api.patch('/bytes', new Uint8Array([1]))
await api.delete('/items/1', { signal: new AbortController().signal })
await api.request({ url: '/x', method: 'POST', data: 'text', validateStatus: null })
await api.request('/x', { method: 'get' })

const res: Response = await api.fetch('/me', { headers: { Accept: 'application/json' }, skipAuth: true })
const res2: Response = await api.fetch(new Request('/me'))
globalThis.fetch = api.fetch

const id: number = api.interceptors.request.use((c) => {
  c.headers['x-request-id'] = '1'
  return c
})
api.interceptors.request.eject(id)
api.interceptors.response.use((r) => r, (e) => Promise.reject(e))
api.interceptors.response.clear()
api.defaults.timeout = 1000

api.auth.setTokens({ accessToken: 'a', refreshToken: 'r' })
const tok: string | null = api.auth.accessToken()
const authed: boolean = api.auth.isAuthenticated()
const fresh: Promise<string> = api.auth.refresh()
const off: () => void = api.auth.on('tokens', (ev, detail) => {
  const name: 'tokens' | 'refresh' | 'expired' = ev
  const signedIn: boolean = detail.authenticated
  const elsewhere: boolean = detail.fromOtherTab
  // @ts-expect-error the detail is read-only
  detail.authenticated = false
})
create({ auth: { refresh: null } }) // no refresh, on purpose
create({
  baseURL: 'https://api.example.com',
  xsrfCookieName: 'csrftoken',
  xsrfHeaderName: 'X-CSRFToken',
  auth: { mode: 'cookie', refreshURL: '/auth/refresh', logoutURL: '/auth/logout' },
})
// @ts-expect-error mode is 'storage' or 'cookie'
create({ auth: { mode: 'session' } })
create({ auth: { refreshURL: '/auth/refresh', dpop: true } })
create({ auth: { mode: 'cookie', refreshURL: '/auth/refresh', dpop: true } })
// @ts-expect-error dpop is a boolean
create({ auth: { dpop: 'yes' } })
off()
api.auth.clear()
api.destroy()

create({
  auth: {
    storage: { getItem: (k) => null, setItem: (k, v) => {}, removeItem: (k) => {} },
    refresh: async (refreshToken) => ({ accessToken: refreshToken + '!', expiresIn: 60 }),
  },
})

try {
  await api.get('/x')
} catch (e) {
  if (isJwtFetchError<Me>(e)) {
    const code: string = e.code
    const s: number | undefined = e.response?.status
    const u: string | undefined = e.response?.data.user
  }
  const err = new JwtFetchError('m', 'ERR_NETWORK')
  const name: 'JwtFetchError' = err.name
}
jwtfetch.create()

// @ts-expect-error refreshStyle is 'json' or 'oauth2'
create({ auth: { refreshStyle: 'xml' } })
// @ts-expect-error storage kinds are fixed
create({ auth: { storage: 'cookie' } })
// @ts-expect-error unknown event
api.auth.on('login', () => {})
// @ts-expect-error responseType is an enumeration
api.get('/x', { responseType: 'document' })
// @ts-expect-error accessToken must be a string
api.auth.setTokens({ accessToken: 1 })

void [user, status, ct, raw, res, res2, tok, authed, fresh]
