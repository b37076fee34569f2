// jwtfetch: fetch and an axios-style instance for JWT-protected APIs.
//
// Go decides, JavaScript sends. The token state, the single refresh in
// flight, the requests waiting for it, the origin policy, the leeway and
// the tabs live in Go compiled to WebAssembly (jwtfetch.wasm). This module
// loads it, shapes requests and responses like axios, and sends every
// request itself with the page's original fetch:
//
//   1. make the URL absolute (a URL and a plain init are sent as they are;
//      any other input becomes a Request; a bad input is fetch's TypeError);
//   2. ask Go, synchronously, what it carries: authorize(id, url) answers
//      null (send no token), [header, value, guard], or a Promise of one of
//      those when a refresh must come first (the token is about to expire,
//      or a server already refused it). With an answer Go also says how
//      long it holds for that origin: until a time (the leeway) and while
//      the session's state version (ctl.v, which Go moves on every change)
//      stays. Until then this module reuses it without calling Go: a call
//      into the wasm costs ~150-200 µs when it is not hot;
//   3. send it, with the token in a copy of its headers (a Request whose body
//      sending uses up goes as a clone, kept for the retry); guard says how
//      a token in a header other than Authorization is kept from following
//      a redirect to another origin;
//   4. when the answer's status is one Go listed at newClient (401 by
//      default), or the request failed on the network and Go asked for
//      that too, ask Go for the token's successor(id, url, value): Go
//      joins or starts the single refresh (or sees that another request
//      already got a new token) and answers what the retry carries; send
//      it once more.
//
// So Go is entered asynchronously only when there is something to decide;
// a request with a good token costs at most one synchronous call, usually
// none. This module never sees a refresh token and never decides about
// refreshing.

import './wasm_exec.js' // defines globalThis.Go; copied from the Go toolchain by the build

// The page's own fetch, captured before anyone can set window.fetch to an
// instance's fetch: the wasm sends with it, so nothing can loop.
const nativeFetch = globalThis.fetch.bind(globalThis)

const NS_GLOBAL = '__jwtfetch'

let loading = null

/**
 * Starts loading the wasm runtime (once) and resolves when it is ready.
 * Optional: create() calls it with the defaults.
 */
export function load({ wasmURL } = {}) {
  if (!loading) {
    loading = start(wasmURL ?? new URL('./jwtfetch.wasm', import.meta.url))
    // A failed load may be retried by the next call.
    loading.catch(() => { loading = null })
  }
  return loading
}

async function start(wasmURL) {
  const go = new globalThis.Go()
  const instance = await instantiate(wasmURL, go.importObject)
  return new Promise((resolve, reject) => {
    const ns = { fetch: nativeFetch, sign: signProof, dpopKey }
    ns.ready = () => resolve(ns)
    globalThis[NS_GLOBAL] = ns
    go.run(instance).then(() => {
      reject(new JwtFetchError('jwtfetch: the wasm runtime exited', 'ERR_RUNTIME'))
    }, reject)
  })
}

// signProof completes a DPoP proof (auth.dpop): input is its signing input
// (header.claims, both base64url, made by Go), key the private key, which
// no script can read but WebCrypto can sign with. ES256 signatures from
// WebCrypto are r||s, as JWS wants them. The wasm calls this for each
// proof, so that signing does not enter Go again.
const ES256 = { name: 'ECDSA', hash: 'SHA-256' }
const textEncoder = new TextEncoder()
function signProof(key, input) {
  return crypto.subtle.sign(ES256, key, textEncoder.encode(input)).then((sig) => `${input}.${base64url(new Uint8Array(sig))}`)
}

// dpopKey returns a Promise of the DPoP key { key, x, y }: the private key
// and its public coordinates (base64url). With a storageKey the key is the
// one kept in IndexedDB for every tab of the origin (made and stored when
// there is none, or when renew is set: after auth.clear()); the Web Lock
// makes tabs that start together share one key instead of each storing
// its own. With storageKey null (memory storage) the key is this
// instance's. When IndexedDB fails the key is this page's, with a warning.
// Go decides when to call it; the private key is made non-extractable and
// stays so in IndexedDB (structured clone keeps a CryptoKey as it is).
async function dpopKey(storageKey, renew) {
  const use = async (pair) => {
    const { x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey)
    return { key: pair.privateKey, x, y }
  }
  const make = () => crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])
  if (storageKey === null) return use(await make())
  const id = `${storageKey}:dpop`
  const underLock = async () => {
    let db
    try {
      db = await idbOpen()
      if (!renew) {
        const v = await idbRequest(db.transaction(IDB_STORE, 'readonly').objectStore(IDB_STORE).get(id))
        if (v?.privateKey instanceof CryptoKey && v.publicKey instanceof CryptoKey && !v.privateKey.extractable) {
          db.close()
          return use(v)
        }
      }
    } catch {
      db?.close()
      db = null
    }
    const pair = await make()
    try {
      if (!db) throw new Error('no database')
      const tx = db.transaction(IDB_STORE, 'readwrite')
      tx.objectStore(IDB_STORE).put({ privateKey: pair.privateKey, publicKey: pair.publicKey }, id)
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve
        tx.onerror = tx.onabort = () => reject(tx.error)
      })
    } catch {
      console.warn('jwtfetch: the DPoP key cannot be kept in IndexedDB; this page signs with a key of its own, which a reload loses')
    } finally {
      db?.close()
    }
    return use(pair)
  }
  return globalThis.navigator?.locks ? navigator.locks.request(id, underLock) : underLock()
}

// The IndexedDB database and store the wasm keeps the tabs' shared
// session in (wasm/jsbridge/crosstab.go): the DPoP key is one more record.
const IDB_NAME = 'jwtfetch'
const IDB_STORE = 'sessions'
function idbOpen() {
  const req = indexedDB.open(IDB_NAME, 1)
  req.onupgradeneeded = () => req.result.createObjectStore(IDB_STORE)
  return idbRequest(req)
}
function idbRequest(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

function base64url(bytes) {
  if (typeof bytes.toBase64 === 'function') return bytes.toBase64({ alphabet: 'base64url', omitPadding: true })
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

// instantiate loads the wasm at url. Every way it can fail becomes one
// JwtFetchError that names the URL and what to check: the page cannot do
// anything about it at run time, the developer can.
async function instantiate(url, imports) {
  url = absolute(url)
  const failed = (what, check, cause) =>
    new JwtFetchError(`jwtfetch: cannot load the runtime from ${url}: ${what}; ${check}`, 'ERR_NETWORK', undefined, undefined, cause)
  const get = async () => {
    let resp
    try {
      resp = await nativeFetch(url)
    } catch (e) {
      throw failed('network error', 'check the URL, that the server is up and, on another origin, its CORS headers', e)
    }
    if (!resp.ok) {
      throw failed(`HTTP ${resp.status}`, 'check that jwtfetch.wasm is served there (make build puts it next to jwtfetch.js) or pass its URL as wasmURL')
    }
    return resp
  }
  let resp = await get()
  // The media type only, and only when it looks like one: a header is text
  // from outside, and none of it goes into a message otherwise.
  let type = (resp.headers.get('Content-Type') ?? '').split(';')[0].trim().toLowerCase()
  if (!/^[a-z]+\/[a-z0-9.+-]{1,60}$/.test(type)) type = ''
  if (type === 'application/wasm') {
    try {
      // Compiles while it downloads; needs that Content-Type.
      return (await WebAssembly.instantiateStreaming(resp, imports)).instance
    } catch {
      // Read it once more (from the HTTP cache, usually) to say what it is.
      resp = await get()
    }
  }
  const bytes = new Uint8Array(await resp.arrayBuffer())
  // Every wasm module starts with "\0asm". An HTML page here is the common
  // mistake: a single-page app's fallback answers 200 for any path.
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    const head = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart().toLowerCase()
    const html = type === 'text/html' || head.startsWith('<!doctype html') || head.startsWith('<html')
    throw failed(
      html ? 'it answered an HTML page, not WebAssembly' : `it answered ${type || 'a file'} that is not WebAssembly`,
      'check the path (a single-page app fallback answers any path with its index.html) and that jwtfetch.wasm is served there, or pass its URL as wasmURL',
    )
  }
  try {
    return (await WebAssembly.instantiate(bytes, imports)).instance
  } catch (e) {
    throw failed(`not a jwtfetch.wasm this module can run (${e?.name ?? 'Error'})`, 'serve the jwtfetch.wasm built with this jwtfetch.js (make build writes both)', e)
  }
}

/**
 * debugStats reports the runtime's live resources (js.Func values not
 * released, instances, goroutines, Go heap bytes), for leak tests. Not part
 * of the stable API.
 */
export async function debugStats() {
  const ns = await load()
  return ns.stats()
}

/**
 * JwtFetchError is the error of every rejected request. isJwtFetchError
 * compares the name, so it works across frames and bundles.
 */
export class JwtFetchError extends Error {
  constructor(message, code, config, response, cause) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'JwtFetchError'
    this.code = code
    this.config = config
    this.response = response
  }
}

export function isJwtFetchError(e) {
  return e != null && typeof e === 'object' && e.name === 'JwtFetchError'
}

// toError turns whatever the wasm or fetch rejected with into a JwtFetchError.
function toError(e, config) {
  if (isJwtFetchError(e)) {
    return new JwtFetchError(e.message, e.code, config, e.response, e.cause)
  }
  if (e != null && e.name === 'AbortError') {
    return new JwtFetchError('jwtfetch: request canceled', 'ERR_CANCELED', config, undefined, e)
  }
  if (e != null && e.name === 'TimeoutError') {
    return new JwtFetchError('jwtfetch: request timed out', 'ECONNABORTED', config, undefined, e)
  }
  if (e instanceof TypeError) {
    // The browser's own text is "Failed to fetch"; ours says more (a
    // redirect that was not followed).
    const message = e instanceof RedirectError ? e.message : 'jwtfetch: network error'
    return new JwtFetchError(message, 'ERR_NETWORK', config, undefined, e)
  }
  // Whatever else was thrown came from outside (an abort reason, say): its
  // text is not copied into the message.
  return new JwtFetchError('jwtfetch: request failed', 'ERR_UNKNOWN', config, undefined, e)
}

// The wasm's synchronous functions return an Error instead of throwing (a Go
// callback cannot throw); check turns that back into a throw.
function check(v) {
  if (v instanceof Error) throw toError(v)
  return v
}

const pageOrigin = () => globalThis.location?.origin

function originOf(url, base) {
  try {
    return new URL(url, base).origin
  } catch {
    return undefined
  }
}

function resolveURL(url, baseURL) {
  if (!baseURL || /^[a-z][a-z\d+\-.]*:/i.test(url)) return url
  return baseURL.replace(/\/+$/, '') + '/' + String(url).replace(/^\/+/, '')
}

function absolute(url) {
  return new URL(url, globalThis.location?.href).href
}

// checkOrigins returns auth.origins as origins, throwing at create() for an
// entry that is not an absolute http(s) URL: '127.0.0.1:8080' would
// otherwise resolve against the page and silently mean the page's origin.
function checkOrigins(origins) {
  if (origins === undefined || origins === null) return undefined
  if (!Array.isArray(origins)) {
    throw new JwtFetchError('jwtfetch: auth.origins must be an array of origins', 'ERR_BAD_OPTION_VALUE')
  }
  return origins.map((o) => {
    let origin
    try {
      const u = new URL(o)
      if (u.protocol === 'http:' || u.protocol === 'https:') origin = u.origin
    } catch {}
    if (origin) return origin
    const hint = /^[\w.-]+(:\d+)?$/.test(String(o)) ? `, like 'http://${o}'` : ''
    throw new JwtFetchError(
      `jwtfetch: auth.origins: '${o}' is not an http or https origin; write it with its scheme${hint}`,
      'ERR_BAD_OPTION_VALUE',
    )
  })
}

// Names a login answer often uses for what setTokens calls accessToken,
// refreshToken and expiresIn.
const tokenAliases = {
  access: 'accessToken',
  access_token: 'accessToken',
  token: 'accessToken',
  refresh: 'refreshToken',
  refresh_token: 'refreshToken',
  expires_in: 'expiresIn',
}

// checkTokens returns setTokens' argument when jwtfetch can use it, and
// throws at once otherwise, before the runtime is ready too. Messages name
// fields, never values: those are tokens.
function checkTokens(tokens, cookieMode) {
  const bad = (msg) => new JwtFetchError(`jwtfetch: setTokens: ${msg}`, 'ERR_BAD_OPTION_VALUE')
  if (tokens === null || typeof tokens !== 'object') {
    throw bad('expects an object { accessToken, refreshToken, expiresIn? }')
  }
  const { accessToken, refreshToken, expiresIn } = tokens
  for (const [name, v] of [['accessToken', accessToken], ['refreshToken', refreshToken]]) {
    if (v != null && typeof v !== 'string') throw bad(`${name} must be a string, not ${typeof v}`)
  }
  if (expiresIn != null && !(typeof expiresIn === 'number' && expiresIn >= 0)) {
    throw bad('expiresIn must be a number of seconds')
  }
  if (!accessToken && !refreshToken) {
    // In cookie mode the session may start from the cookie alone: the
    // first request that needs a token refreshes first.
    if (cookieMode && !Object.keys(tokens).some((n) => n in tokenAliases)) return {}
    // Field names only, and only ones that look like names.
    const names = Object.keys(tokens).map((n) => (/^[A-Za-z_$][\w$]{0,31}$/.test(n) ? n : '…'))
    const renames = names.filter((n) => n in tokenAliases).map((n) => `${tokenAliases[n]}: data.${n}`)
    const got = names.length ? `got { ${names.join(', ')} }` : 'got neither'
    throw bad(
      `expects { accessToken, refreshToken }; ${got}` +
        (renames.length ? `: write setTokens({ ${renames.join(', ')} })` : ''),
    )
  }
  return { accessToken, refreshToken, expiresIn }
}

// allowedOrigins is auth.origins, or its default: baseURL's origin and the
// page's.
function allowedOrigins(config, origins) {
  const base = config.baseURL ? absolute(config.baseURL) : globalThis.location?.href
  return [...new Set(origins ?? [originOf(base), pageOrigin()].filter(Boolean))]
}

// readCookie returns the value of the cookie name as the page can read it,
// '' when there is none.
function readCookie(name) {
  if (!name || typeof document === 'undefined') return ''
  for (const part of document.cookie.split(';')) {
    const i = part.indexOf('=')
    if (i >= 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim())
      } catch {
        return part.slice(i + 1).trim()
      }
    }
  }
  return ''
}

// The config the wasm needs, from create()'s config. Defaults as in API.md.
function wasmConfig(config, origins, dispatch, xsrfValue) {
  const auth = config.auth ?? {}
  return {
    origins,
    mode: auth.mode,
    xsrfHeaderName: config.xsrfHeaderName ?? 'X-XSRF-TOKEN',
    xsrfValue,
    refreshURL: auth.refreshURL ? absolute(resolveURL(auth.refreshURL, config.baseURL)) : undefined,
    refreshStyle: auth.refreshStyle,
    clientId: auth.clientId,
    refresh: auth.refresh,
    refreshOn: auth.refreshOn,
    leeway: auth.leeway,
    refreshTimeout: auth.refreshTimeout,
    storage: auth.storage,
    storageKey: auth.storageKey,
    header: auth.header,
    scheme: auth.scheme,
    crossTab: auth.crossTab,
    dpop: auth.dpop === true,
    refreshOnNetworkError: auth.refreshOnNetworkError,
    credentials: config.withCredentials ? 'include' : undefined,
    onEvent: dispatch,
  }
}

// Redirect guards, the third element of an answer (wasm/jsbridge/fetch.go):
// for a request whose redirect mode is 'follow' and whose token travels in a
// header browsers do not remove at a redirect to another origin.
const GUARD_SAME_ORIGIN = 1 // to the page's origin: mode 'same-origin'
const GUARD_MANUAL = 2 // elsewhere: redirect 'manual', an opaque redirect fails

// redirectError is the TypeError (a network error, as fetch reports a
// redirect it may not follow) of a redirect a guard stopped.
class RedirectError extends TypeError {}
function redirectError(header, what) {
  return new RedirectError(
    `jwtfetch: ${what}: the token travels in ${header}, which browsers do not remove when a redirect leads to another origin,` +
      ' so such requests follow no redirect away from their origin. Request the final URL, or send the token in Authorization',
  )
}

// attempt sends target with the page's fetch: an absolute URL with its
// plain init, which it leaves as it is, or a Request (init undefined), which
// sending uses up. When answer is not null, the request carries its token
// in a copy of the headers, under the answer's redirect guard; a DPoP
// proof, when there is one, goes in that copy too.
function attempt(target, init, answer, proof) {
  if (answer === null && proof === undefined) return nativeFetch(target, init)
  const req = target instanceof Request ? target : null
  const headers = new Headers(req ? req.headers : init?.headers)
  if (proof !== undefined) headers.set('DPoP', proof)
  if (answer === null) return nativeFetch(target, { ...init, headers })
  headers.set(answer[0], answer[1])
  const redirect = req ? req.redirect : init?.redirect ?? 'follow'
  if (answer[2] === 0 || redirect !== 'follow') return nativeFetch(target, { ...init, headers })
  const guard = answer[2] === GUARD_SAME_ORIGIN ? { mode: 'same-origin' } : { redirect: 'manual' }
  return guarded(nativeFetch(target, { ...init, headers, ...guard }), answer)
}

// guarded settles like the fetch p of a request sent under a redirect guard,
// turning a redirect the guard stopped into a TypeError that says so.
async function guarded(p, answer) {
  let resp
  try {
    resp = await p
  } catch (e) {
    if (answer[2] === GUARD_SAME_ORIGIN && e instanceof TypeError) {
      throw redirectError(answer[0], 'network error, or a redirect to another origin, which is not followed')
    }
    throw e
  }
  if (resp.type === 'opaqueredirect') {
    throw redirectError(answer[0], 'the response is a redirect, which is not followed')
  }
  return resp
}

// direct reports whether fetch(input, init) can be sent as an absolute URL
// and init, with no Request of ours: input is a URL, init is undefined or a
// plain object (a spread copies it whole), and its body is sent again as
// the same bytes for the retry: anything but a stream, and a FormData,
// which gets a new multipart boundary each time.
function direct(input, init) {
  if (typeof input !== 'string' && !(input instanceof URL)) return false
  if (init === undefined || init === null) return true
  const proto = Object.getPrototypeOf(init)
  if (proto !== Object.prototype && proto !== null) return false
  const body = init.body
  if (body === undefined || body === null || typeof body === 'string') return true
  return !(body instanceof FormData) && !(typeof ReadableStream !== 'undefined' && body instanceof ReadableStream)
}

// fetchMethod is the method fetch sends for init.method: the six it
// normalizes in upper case, any other as written (a DPoP proof's htm must
// be what goes on the wire).
function fetchMethod(m) {
  if (m === undefined || m === null) return 'GET'
  const up = String(m).toUpperCase()
  return ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'].includes(up) ? up : String(m)
}

// The base of relative URLs, as fetch resolves them.
const baseURI = () => globalThis.document?.baseURI ?? globalThis.location?.href

function isPlainBody(data) {
  if (data === null || typeof data !== 'object') return false
  const proto = Object.getPrototypeOf(data)
  return Array.isArray(data) || proto === Object.prototype || proto === null
}

function buildURL(url, params) {
  if (!params) return url
  const q = params instanceof URLSearchParams ? new URLSearchParams(params) : new URLSearchParams()
  if (!(params instanceof URLSearchParams)) {
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null) continue
      for (const item of Array.isArray(v) ? v : [v]) {
        q.append(k, item instanceof Date ? item.toISOString() : String(item))
      }
    }
  }
  const s = q.toString()
  if (!s) return url
  const [path, hash] = String(url).split('#', 2)
  return path + (path.includes('?') ? '&' : '?') + s + (hash === undefined ? '' : '#' + hash)
}

async function readBody(resp, responseType, method) {
  if (method === 'HEAD' || resp.status === 204 || resp.status === 205 || resp.status === 304) return ''
  switch (responseType) {
    case 'stream':
      return resp.body
    case 'blob':
      return resp.blob()
    case 'arraybuffer':
      return resp.arrayBuffer()
    case 'text':
      return resp.text()
  }
  const text = await resp.text()
  const type = resp.headers.get('content-type') ?? ''
  if (text && /[/+]json\b/i.test(type)) {
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  return text
}

/**
 * InterceptorManager holds interceptors like axios's: use returns an id for
 * eject; ejected slots stay empty so ids remain valid.
 */
class InterceptorManager {
  #handlers = []

  use(onFulfilled, onRejected) {
    this.#handlers.push({ onFulfilled, onRejected })
    return this.#handlers.length - 1
  }

  eject(id) {
    if (this.#handlers[id]) this.#handlers[id] = null
  }

  clear() {
    this.#handlers = []
  }

  forEach(fn) {
    for (const h of this.#handlers) if (h) fn(h)
  }
}

const METHOD_KEYS = ['common', 'get', 'delete', 'head', 'options', 'post', 'put', 'patch']

// flattenHeaders merges header sets into one object with lower-case names,
// later sets winning. Like axios, a plain object may hold `common` and
// per-method sections, and a null, undefined or false value removes a
// header set earlier.
function flattenHeaders(method, ...sets) {
  const out = {}
  const apply = (h) => {
    if (!h) return
    const entries = h instanceof Headers ? h.entries() : Object.entries(h)
    for (const [k, v] of entries) {
      if (h instanceof Headers || !METHOD_KEYS.includes(k)) {
        if (v === null || v === undefined || v === false) delete out[k.toLowerCase()]
        else out[k.toLowerCase()] = String(v)
      }
    }
  }
  for (const h of sets) {
    if (h && !(h instanceof Headers)) apply(h.common)
    if (h && !(h instanceof Headers)) apply(h[method])
    apply(h)
  }
  return out
}

// mergeConfig puts a request's config over the instance defaults.
function mergeConfig(defaults, cfg) {
  const method = String(cfg.method ?? defaults.method ?? 'get').toLowerCase()
  return { ...defaults, ...cfg, method, headers: flattenHeaders(method, defaults.headers, cfg.headers) }
}

// abortable settles like p, or rejects with the signal's reason once it is
// aborted, whichever comes first.
function abortable(p, signal) {
  if (!signal) return p
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

const defaultValidateStatus = (status) => status >= 200 && status < 300

/**
 * create returns an instance synchronously, like axios.create. Requests made
 * before the runtime is ready wait for it; instance.ready is a Promise for
 * that.
 */
export function create(config = {}) {
  const listeners = { tokens: new Set(), refresh: new Set(), expired: new Set() }
  let id = null
  let destroyed = false
  let ns = null
  // What Go said makes a request ask for its token's successor: these
  // statuses, and a network error when retryNetwork is set.
  let retryStatuses = []
  let retryNetwork = false
  // ctl.v is the session's state version, which Go moves whenever an
  // answer of authorize may change; decisions keeps Go's answers by origin
  // for as long as Go said they hold.
  let ctl = null
  const decisions = new Map()
  const auth = config.auth ?? {}
  const origins = allowedOrigins(config, checkOrigins(auth.origins))
  if (auth.mode != null && auth.mode !== 'storage' && auth.mode !== 'cookie') {
    throw new JwtFetchError(`jwtfetch: auth.mode must be 'storage' or 'cookie', not '${auth.mode}'`, 'ERR_BAD_OPTION_VALUE')
  }
  const cookieMode = auth.mode === 'cookie'
  if (auth.dpop != null && typeof auth.dpop !== 'boolean') {
    throw new JwtFetchError(`jwtfetch: auth.dpop must be true or false, not ${typeof auth.dpop}`, 'ERR_BAD_OPTION_VALUE')
  }
  const dpop = auth.dpop === true
  if (dpop && !globalThis.crypto?.subtle) {
    throw new JwtFetchError(
      'jwtfetch: auth.dpop needs WebCrypto (crypto.subtle), which browsers give only to secure contexts: https, or http://localhost',
      'ERR_BAD_OPTION_VALUE',
    )
  }
  const logoutURL = auth.logoutURL ? absolute(resolveURL(auth.logoutURL, config.baseURL)) : null
  // xsrfHeader returns the XSRF header (axios's xsrfCookieName and
  // xsrfHeaderName) for a request with credentials to url: [name, value]
  // when url is on an allowed origin and the cookie is readable, else null.
  const xsrfValue = () => readCookie(defaults.xsrfCookieName ?? 'XSRF-TOKEN')
  const xsrfHeader = (url) => {
    const value = origins.includes(originOf(url, globalThis.location?.href)) ? xsrfValue() : ''
    return value ? [defaults.xsrfHeaderName ?? 'X-XSRF-TOKEN', value] : null
  }
  // xsrf adds the XSRF header to a plain headers object unless it is set.
  const xsrf = (url, headers) => {
    const h = xsrfHeader(url)
    if (h && !Object.keys(headers).some((k) => k.toLowerCase() === h[0].toLowerCase())) headers[h[0]] = h[1]
  }
  if (auth.refreshURL == null && auth.refresh == null && !('refresh' in auth) && !('refreshURL' in auth)) {
    // The common slip: tokens are set, nothing can renew them, and the
    // first expiry shows up as a plain 401 much later.
    console.warn(
      "jwtfetch: create() without auth.refreshURL (or auth.refresh): expired tokens will not be refreshed and requests get the server's 401; " +
        'set auth.refreshURL, or auth.refresh: null if no refresh is wanted',
    )
  }

  // Go reports each event with what the change left (a session or none)
  // and whether it came from another tab (or another instance sharing the
  // storage): listeners get both as detail.
  const dispatchEvent = (name, authenticated, fromOtherTab) => {
    if (name === 'expired' && typeof auth.onExpired === 'function') {
      try {
        auth.onExpired()
      } catch (e) {
        console.error(e)
      }
    }
    const detail = Object.freeze({ authenticated: authenticated === true, fromOtherTab: fromOtherTab === true })
    for (const cb of listeners[name] ?? []) {
      try {
        cb(name, detail)
      } catch (e) {
        console.error(e)
      }
    }
  }

  const ready = load(config.wasmURL ? { wasmURL: config.wasmURL } : undefined).then((n) => {
    if (destroyed) return
    ns = n
    ;[id, retryStatuses, retryNetwork, ctl] = check(ns.newClient(wasmConfig(config, origins, dispatchEvent, xsrfValue)))
  })
  ready.catch(() => {}) // reported to whoever awaits a request

  const alive = () => {
    if (destroyed) throw new JwtFetchError('jwtfetch: instance destroyed', 'ERR_DESTROYED')
  }
  const need = () => {
    alive()
    if (id === null) throw new JwtFetchError('jwtfetch: not ready yet; await instance.ready', 'ERR_NOT_READY')
    return id
  }

  // whenReady runs fn now, or once the runtime is ready. A call queued
  // before destroy() is dropped with the instance.
  const whenReady = (fn) => {
    if (id !== null || destroyed) return fn()
    ready
      .then(() => {
        if (!destroyed) fn()
      })
      .catch((e) => console.error(e))
  }

  const defaults = {
    ...config,
    headers: { ...(config.headers ?? {}) },
    timeout: config.timeout ?? 0,
    responseType: config.responseType ?? 'json',
    validateStatus: config.validateStatus === undefined ? defaultValidateStatus : config.validateStatus,
  }
  const interceptors = { request: new InterceptorManager(), response: new InterceptorManager() }

  // authorize returns what a request to url carries: Go's answer (null or
  // [header, value, guard]), or a Promise of it when a refresh must come
  // first. An answer Go gave for the URL's origin is reused while Go said
  // it holds: until its time, and while the session's state version is the
  // same (see wasm/jsbridge/exports.go).
  function authorize(url) {
    const key = url.slice(0, url.indexOf('/', url.indexOf('//') + 2) + 1)
    const kept = decisions.get(key)
    if (kept !== undefined && kept.v === ctl.v && (kept.until === 0 || Date.now() < kept.until)) return kept.answer
    const r = ns.authorize(id, url)
    if (!Array.isArray(r)) {
      if (r instanceof Error) throw r
      return r // a Promise: a refresh comes first
    }
    const [answer, goKey, until, v] = r
    if (goKey !== '' && goKey === key) {
      if (decisions.size >= 64) decisions.clear()
      decisions.set(key, { answer, until, v })
    }
    return answer
  }

  // authFetch sends one request with the session (see the top of this
  // file). It settles as fetch(input, init) would: a Response for any
  // status, the browser's TypeError or the signal's reason; and rejects
  // with the session's errors (from Go, named JwtFetchError) when a
  // refresh the request needed failed.
  async function authFetch(input, init, skipAuth, skipRefresh) {
    if (id === null) {
      await abortable(ready, init?.signal ?? (input instanceof Request ? input.signal : undefined))
    }
    need()
    // The usual request (a URL, a plain init) goes to fetch as it is, with
    // the URL made absolute; any other is made a Request, cloned for a
    // retry when its body would be used up.
    let url, req, signal
    if (direct(input, init)) {
      url = new URL(input, baseURI()).href // a bad URL: fetch's TypeError
      signal = init?.signal ?? undefined
    } else {
      req = new Request(input, init)
      url = req.url
      signal = req.signal
    }
    if (signal?.aborted) throw signal.reason
    let answer = null
    if (!skipAuth) {
      answer = authorize(url)
      if (answer !== null && !Array.isArray(answer)) {
        answer = await abortable(answer, signal)
        alive() // destroyed while waiting for the refresh: send nothing
      }
    }
    const send = (answer, last, proof) =>
      req === undefined ? attempt(url, init, answer, proof) : attempt(last || req.body === null ? req : req.clone(), undefined, answer, proof)
    const canRetry = answer !== null && !skipRefresh && (retryStatuses.length > 0 || retryNetwork)
    if (dpop) return dpopFetch(url, req ? req.method : fetchMethod(init?.method), signal, send, answer, canRetry)
    if (!canRetry) return send(answer, true)
    let resp
    try {
      resp = await send(answer, false)
      if (!retryStatuses.includes(resp.status)) return resp
    } catch (e) {
      if (!retryNetwork || !(e instanceof TypeError) || e instanceof RedirectError || signal?.aborted) throw e
    }
    resp?.body?.cancel().catch(() => {})
    const next = await abortable(ns.successor(id, url, answer[1]), signal)
    alive()
    return send(next, true)
  }

  // dpopFetch is authFetch's sending with auth.dpop: every attempt to an
  // allowed origin carries a new proof, and Go decides whether an answer
  // is a nonce challenge (it remembers every DPoP-Nonce it is shown). That
  // is answered once with one more attempt, which leaves the request its
  // one refresh-and-retry (canRetry).
  async function dpopFetch(url, method, signal, send, answer, canRetry) {
    let nonceRetry = true
    for (;;) {
      let proof, used
      const r = ns.proof(id, method, url, answer === null ? null : answer[1])
      if (r instanceof Error) throw r
      if (r !== null) {
        ;[proof, used] = Array.isArray(r) ? r : await abortable(r, signal)
        proof = await abortable(proof, signal)
        alive()
      }
      let resp
      try {
        resp = await send(answer, !nonceRetry && !canRetry, proof)
      } catch (e) {
        if (!canRetry || !retryNetwork || !(e instanceof TypeError) || e instanceof RedirectError || signal?.aborted) throw e
      }
      if (resp !== undefined) {
        const nonce = proof === undefined ? null : resp.headers.get('dpop-nonce')
        let challenged = false
        if (nonce !== null) {
          // A 400 is a nonce challenge by its body ({"error":"use_dpop_nonce"},
          // from a token endpoint): read a copy of it only then.
          const body = resp.status === 400 && nonceRetry && nonce !== used ? await abortable(resp.clone().text(), signal) : ''
          challenged = ns.dpopResponse(id, url, resp.status, resp.headers.get('www-authenticate'), nonce, used, body)
        }
        if (challenged === true && nonceRetry) {
          nonceRetry = false
          resp.body?.cancel().catch(() => {})
          continue
        }
        if (!canRetry || !retryStatuses.includes(resp.status)) return resp
        resp.body?.cancel().catch(() => {})
      }
      answer = await abortable(ns.successor(id, url, answer[1]), signal)
      alive()
      canRetry = false
    }
  }

  // fetch has exactly window.fetch's contract, plus auth and refresh.
  async function instanceFetch(input, init) {
    const h = init?.credentials === 'include' && (typeof input === 'string' || input instanceof URL) ? xsrfHeader(absolute(String(input))) : null
    if (h) {
      // The XSRF header, as on requests with withCredentials.
      const headers = new Headers(init.headers)
      if (!headers.has(h[0])) {
        headers.set(h[0], h[1])
        init = { ...init, headers }
      }
    }
    try {
      return await authFetch(input, init, init?.skipAuth, init?.skipRefresh)
    } catch (e) {
      // The browser's own TypeError and AbortError go through untouched, as
      // fetch's would; the session's errors become JwtFetchError instances.
      throw isJwtFetchError(e) && !(e instanceof JwtFetchError) ? toError(e) : e
    }
  }

  // send performs one request whose config has been through the request
  // interceptors.
  async function send(c) {
    const method = String(c.method ?? 'get').toUpperCase()
    const url = buildURL(resolveURL(c.url ?? '', c.baseURL), c.params)
    // Lower-case names (flattenHeaders): fetch makes the Headers.
    const headers = flattenHeaders(method.toLowerCase(), c.headers)
    let body = method === 'GET' || method === 'HEAD' ? undefined : c.data ?? undefined
    if (isPlainBody(body)) {
      body = JSON.stringify(body)
      if (!Object.hasOwn(headers, 'content-type')) headers['content-type'] = 'application/json'
    }
    if (!Object.hasOwn(headers, 'accept')) headers.accept = 'application/json, text/plain, */*'
    const signals = c.signal ? [c.signal] : []
    let timer = null
    let timedOut = false
    if (c.timeout > 0) {
      const ac = new AbortController()
      timer = setTimeout(() => {
        timedOut = true
        ac.abort()
      }, c.timeout)
      signals.push(ac.signal)
    }
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0]
    if (c.withCredentials) xsrf(url, headers)
    const init = {
      method,
      headers,
      body,
      credentials: c.withCredentials ? 'include' : undefined,
      signal,
    }
    if (typeof ReadableStream !== 'undefined' && init.body instanceof ReadableStream) init.duplex = 'half'
    let resp, data
    try {
      resp = await authFetch(url, init, c.skipAuth, c.skipRefresh)
      data = await readBody(resp, c.responseType, method)
    } catch (e) {
      const err = toError(e, c)
      if (timedOut) {
        err.code = 'ECONNABORTED'
        err.message = `jwtfetch: timeout of ${c.timeout}ms exceeded`
      } else if (c.signal?.aborted) {
        err.code = 'ERR_CANCELED'
        err.message = 'jwtfetch: request canceled'
      }
      throw err
    } finally {
      if (timer !== null) clearTimeout(timer)
    }
    const result = {
      data,
      status: resp.status,
      statusText: resp.statusText,
      headers: Object.fromEntries(resp.headers), // Headers iterate with lower-case names
      config: c,
      raw: resp,
    }
    if (!c.validateStatus || c.validateStatus(resp.status)) return result
    const code = resp.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST'
    throw new JwtFetchError(`jwtfetch: request failed with status code ${resp.status}`, code, c, result)
  }

  // request runs the interceptor chain around send, in axios's order:
  // request interceptors last-added first, response interceptors
  // first-added first.
  function request(urlOrConfig, cfg) {
    const own = typeof urlOrConfig === 'string' ? { ...cfg, url: urlOrConfig } : { ...urlOrConfig }
    let p = Promise.resolve(mergeConfig(defaults, own))
    const before = []
    interceptors.request.forEach((h) => before.unshift(h))
    for (const h of before) p = p.then(h.onFulfilled, h.onRejected)
    p = p.then(send)
    interceptors.response.forEach((h) => {
      p = p.then(h.onFulfilled, h.onRejected)
    })
    return p
  }

  // logout tells the server (auth.logoutURL) that the session ended, with
  // the cookies and the XSRF header, so it can revoke the refresh token
  // and delete its cookie. The session is already cleared here, whatever
  // the answer; a failure is a warning that names the URL, nothing else.
  const logout = (url) => {
    const headers = { accept: 'application/json, text/plain, */*' }
    xsrf(url, headers)
    nativeFetch(url, { method: 'POST', headers, credentials: 'include', cache: 'no-store', redirect: 'manual' }).then(
      (resp) => {
        if (!resp.ok && resp.type !== 'opaqueredirect') console.warn(`jwtfetch: logout: POST ${url} answered ${resp.status}; the session is cleared here`)
        resp.body?.cancel().catch(() => {})
      },
      () => console.warn(`jwtfetch: logout: POST ${url} failed (network error); the session is cleared here`),
    )
  }

  const instance = {
    ready,
    defaults,
    interceptors,
    fetch: instanceFetch,
    request,
    auth: {
      // setTokens and clear work before the runtime is ready too: they
      // are applied as soon as it is, before any waiting request goes out.
      setTokens(tokens) {
        alive()
        let { accessToken, refreshToken, expiresIn } = checkTokens(tokens, cookieMode)
        if (cookieMode && refreshToken) {
          console.warn("jwtfetch: setTokens: in cookie mode the refresh token is the server's HttpOnly cookie; the refreshToken given is not kept")
          refreshToken = undefined
        }
        whenReady(() => check(ns.setTokens(need(), accessToken, refreshToken, expiresIn)))
      },
      clear() {
        alive()
        whenReady(() => check(ns.clear(need())))
        if (logoutURL) logout(logoutURL)
      },
      accessToken() {
        alive()
        return id === null ? null : check(ns.accessToken(id))
      },
      isAuthenticated() {
        alive()
        return id !== null && check(ns.isAuthenticated(id))
      },
      async refresh() {
        await ready
        const i = need()
        return ns.refresh(i).catch((e) => {
          throw toError(e)
        })
      },
      on(event, cb) {
        alive()
        const set = listeners[event]
        if (!set) throw new TypeError(`jwtfetch: unknown event ${event}`)
        set.add(cb)
        return () => set.delete(cb)
      },
    },
    destroy() {
      if (destroyed) return
      destroyed = true
      if (id !== null) ns.destroy(id)
      for (const set of Object.values(listeners)) set.clear()
    },
  }
  for (const m of ['get', 'delete', 'head', 'options']) {
    instance[m] = (url, cfg) => request({ ...cfg, method: m, url })
  }
  for (const m of ['post', 'put', 'patch']) {
    instance[m] = (url, data, cfg) => request({ ...cfg, method: m, url, data })
  }
  return instance
}

export default { create, load, isJwtFetchError, JwtFetchError }
