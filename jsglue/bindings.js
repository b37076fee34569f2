// What the React and Vue bindings (react.js, vue.js) share: reading the
// session of an instance, decoding the claims of its access token, and the
// login and logout helpers. Internal: not a subpath export, not part of the
// public API.
import { JwtFetchError } from './jwtfetch.js'

// The events after which the bindings read the session again. 'tokens'
// reports every change (login, refresh, logout, another tab); 'expired'
// and 'refresh' are listed too so that nothing depends on which events a
// change fires, nor on what the listener is passed.
export const syncEvents = ['tokens', 'refresh', 'expired']

/**
 * onSessionChange calls cb (with no arguments) whenever the session of api
 * may have changed, and returns the function that stops it.
 */
export function onSessionChange(api, cb) {
  const off = syncEvents.map((name) => api.auth.on(name, () => cb()))
  return () => off.forEach((f) => f())
}

/**
 * isAuthenticated is api.auth.isAuthenticated(), but false for a destroyed
 * instance instead of an ERR_DESTROYED error: a framework may read a
 * snapshot once more after the instance it belongs to was destroyed.
 */
export function isAuthenticated(api) {
  try {
    return api.auth.isAuthenticated()
  } catch {
    return false
  }
}

/** accessToken is api.auth.accessToken(), or null for a destroyed instance. */
export function accessToken(api) {
  try {
    return api.auth.accessToken()
  } catch {
    return null
  }
}

/**
 * decodeClaims returns the payload of a JWT (the base64url JSON object
 * between its two dots), frozen, or null when token is not a JWT with an
 * object payload. It never throws and checks no signature: the claims are
 * for showing (the user's name, roles for the menu), not for trusting; the
 * server decides.
 */
export function decodeClaims(token) {
  if (typeof token !== 'string') return null
  const parts = token.split('.')
  if (parts.length !== 3 || parts[1] === '') return null
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/')
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
    const json = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)))
    const claims = JSON.parse(json)
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return null
    return Object.freeze(claims)
  } catch {
    return null
  }
}

// The names a login answer's tokens are read from, as for a refresh answer
// (see the refresh response in the README and wasm/session/refresh.go).
const accessNames = ['access', 'access_token', 'accessToken', 'token']
const refreshNames = ['refresh', 'refresh_token', 'refreshToken']

function firstString(data, names) {
  for (const n of names) {
    const v = data[n]
    if (typeof v === 'string' && v !== '') return v
  }
  return undefined
}

// expiresIn reads expires_in: a number, or a string of digits.
function expiresIn(v) {
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v
  if (typeof v === 'string' && /^\d+$/.test(v) && Number(v) > 0) return Number(v)
  return undefined
}

/**
 * login POSTs data to url through api without a token (skipAuth), reads the
 * tokens from the answer as a refresh answer is read, starts the session
 * with them and resolves with the response. An answer without an access
 * token rejects with ERR_BAD_RESPONSE; its message names the fields looked
 * for, never the body (which may hold a refresh token), and the response
 * is on the error for the app to inspect.
 */
export async function login(api, url, data, config) {
  const res = await api.post(url, data, { ...config, skipAuth: true })
  const body = res.data !== null && typeof res.data === 'object' ? res.data : {}
  const accessToken = firstString(body, accessNames)
  if (accessToken === undefined) {
    throw new JwtFetchError(
      `jwtfetch: login: the answer of ${url} has no access token (looked for ${accessNames.join(', ')} in a JSON object)`,
      'ERR_BAD_RESPONSE',
      res.config,
      res,
    )
  }
  const tokens = { accessToken }
  const refreshToken = firstString(body, refreshNames)
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken
  const seconds = expiresIn(body.expires_in)
  if (seconds !== undefined) tokens.expiresIn = seconds
  api.auth.setTokens(tokens)
  return res
}

/**
 * logout ends the session: when url is given it first POSTs it with the
 * token (skipRefresh, 5 s timeout unless config says otherwise) so the
 * server can revoke the session, ignoring any failure, then clears the
 * tokens in every tab. The logout holds even when the server is down.
 */
export async function logout(api, url, config) {
  if (url != null) {
    await api.post(url, null, { timeout: 5000, ...config, skipRefresh: true }).catch(() => {})
  }
  api.auth.clear()
}
