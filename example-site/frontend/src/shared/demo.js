// What the Vue and React demo pages share with each other and with the
// vanilla page (example-site/web/app.js): the jwtfetch config, how an error
// and the token's expiry are shown, and a counter of live instances for the
// end-to-end tests.
import { isJwtFetchError } from '/jsglue/jwtfetch.js'

// config is the create() config of every demo page: the demo API is served
// from the page's own origin.
export const config = {
  baseURL: '/',
  auth: { refreshURL: '/auth/refresh' },
}

// The events an instance reports through auth.on, listed on the page.
export const eventNames = ['tokens', 'refresh', 'expired']

export const expiredMessage = 'session expired; please log in again'

// expiry is when the access token whose claims are given expires, or null.
export function expiry(claims) {
  return typeof claims?.exp === 'number' ? new Date(claims.exp * 1000) : null
}

// expiryText is expiry as the page shows it: the local time, or '?'.
export function expiryText(claims) {
  return expiry(claims)?.toLocaleTimeString() ?? '?'
}

// errorText is what the page shows for a failed request.
export function errorText(e) {
  return isJwtFetchError(e) ? `${e.code}: ${e.message}` : String(e)
}

// isCanceled reports whether a request failed only because it was aborted.
export function isCanceled(e) {
  return isJwtFetchError(e) && e.code === 'ERR_CANCELED'
}

// tracked counts api in window.__jwtfetchInstances ({ created, alive }) until
// it is destroyed, so a test can check that a framework binding leaves
// exactly one instance alive (React StrictMode mounts everything twice in
// development).
export function tracked(api) {
  const stats = (globalThis.__jwtfetchInstances ??= { created: 0, alive: 0 })
  stats.created++
  stats.alive++
  const destroy = api.destroy
  let destroyed = false
  api.destroy = () => {
    if (!destroyed) {
      destroyed = true
      stats.alive--
    }
    destroy()
  }
  return api
}
