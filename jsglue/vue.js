// jwtfetch/vue: a Vue 3 plugin that creates one jwtfetch instance and
// provides it to the app, and a composable that injects it.
//
//	app.use(createJwtFetch({ baseURL: '/api', auth: { refreshURL: '/auth/refresh' } }))
//	const { api, ready, isAuthenticated, claims, login, logout } = useJwtFetch() // in setup()
import { inject, readonly, shallowRef } from 'vue'
import { create } from './jwtfetch.js'
import { accessToken, decodeClaims, isAuthenticated, login, logout, onSessionChange } from './bindings.js'

const key = Symbol('jwtfetch')

/**
 * createJwtFetch creates a jwtfetch instance for one app and returns the
 * plugin that provides it, like createRouter or createPinia do. The instance
 * is plugin.api; it is destroyed when the app is unmounted.
 *
 * The plugin keeps one set of refs for the whole app (ready, error,
 * isAuthenticated, claims), in sync with the instance through auth.on
 * (which also reports a login, refresh or logout in another tab), so
 * components do not each subscribe.
 */
export function createJwtFetch(config) {
  const api = create(config)
  const ready = shallowRef(false)
  const error = shallowRef(null)
  const authenticated = shallowRef(false)
  const claims = shallowRef(null)
  let token = null
  const sync = () => {
    authenticated.value = isAuthenticated(api)
    const t = accessToken(api)
    if (t !== token) {
      token = t
      claims.value = decodeClaims(t)
    }
  }
  const off = onSessionChange(api, sync)
  // Tokens kept from an earlier visit are known once the runtime is ready;
  // that is not a change, so no event reports it.
  api.ready.then(
    () => {
      ready.value = true
      sync()
    },
    (e) => {
      error.value = e
    },
  )
  const state = Object.freeze({
    api,
    ready: readonly(ready),
    error: readonly(error),
    isAuthenticated: readonly(authenticated),
    claims: readonly(claims),
    login: (url, data, cfg) => login(api, url, data, cfg),
    logout: (url, cfg) => logout(api, url, cfg),
  })
  return {
    api,
    install(app) {
      app.provide(key, state)
      app.config.globalProperties.$jwtfetch = api
      const release = () => {
        off()
        api.destroy()
      }
      // app.onUnmount is Vue 3.5's; before it, wrap app.unmount.
      if (typeof app.onUnmount === 'function') {
        app.onUnmount(release)
      } else {
        const unmount = app.unmount
        app.unmount = function (...args) {
          try {
            return unmount.apply(this, args)
          } finally {
            release()
          }
        }
      }
    },
  }
}

/**
 * useJwtFetch returns the app's instance and its session as { api, ready,
 * error, isAuthenticated, claims, login, logout }:
 *
 *   - api: the jwtfetch instance;
 *   - ready (the runtime is loaded), error (why loading failed, or null),
 *     isAuthenticated, and claims (the payload of the current access
 *     token, decoded, not verified, or null): read-only refs;
 *   - login(url, data, config?): POST the credentials, start the session
 *     with the tokens of the answer, resolve with the response;
 *   - logout(url?, config?): tell the server (when url is given), then
 *     clear the session.
 */
export function useJwtFetch() {
  const state = inject(key, null)
  if (state === null) {
    throw new Error('useJwtFetch: no jwtfetch instance; install one with app.use(createJwtFetch(config))')
  }
  return state
}
