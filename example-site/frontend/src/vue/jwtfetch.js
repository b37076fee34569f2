// Vue 3 binding of jwtfetch: a plugin that creates the instance and provides
// it to the app, and a composable that injects it.
//
//	app.use(createJwtFetch({ baseURL: '/api', auth: { refreshURL: '/auth/refresh' } }))
//	const { api, isAuthenticated, ready } = useJwtFetch() // in setup()
import { inject, readonly, shallowRef } from 'vue'
import { create } from '/jsglue/jwtfetch.js'

const key = Symbol('jwtfetch')

/**
 * createJwtFetch creates a jwtfetch instance for one app and returns the
 * plugin that provides it, like createRouter or createPinia do. The instance
 * is plugin.api; it is destroyed when the app is unmounted.
 *
 * The plugin keeps one isAuthenticated ref and one ready ref for the whole
 * app, in sync with the instance through auth.on('tokens') (which also
 * reports a login or logout in another tab), so components do not each
 * subscribe.
 */
export function createJwtFetch(config) {
  const api = create(config)
  const isAuthenticated = shallowRef(false)
  const ready = shallowRef(false)
  const error = shallowRef(null)
  const sync = () => {
    isAuthenticated.value = api.auth.isAuthenticated()
  }
  const off = [api.auth.on('tokens', sync), api.auth.on('expired', sync)]
  // Tokens kept from an earlier visit are known once the runtime is ready;
  // that is not a change, so no 'tokens' event reports it.
  api.ready.then(
    () => {
      ready.value = true
      sync()
    },
    (e) => {
      error.value = e
    },
  )
  const state = {
    api,
    isAuthenticated: readonly(isAuthenticated),
    ready: readonly(ready),
    error: readonly(error),
  }
  return {
    api,
    install(app) {
      app.provide(key, state)
      app.config.globalProperties.$jwtfetch = api
      app.onUnmount(() => {
        for (const f of off) f()
        api.destroy()
      })
    },
  }
}

/**
 * useJwtFetch returns the app's instance as { api, isAuthenticated, ready,
 * error }: api is the jwtfetch instance; isAuthenticated (a boolean), ready
 * (the runtime is loaded) and error (it failed to load) are read-only refs.
 */
export function useJwtFetch() {
  const state = inject(key, null)
  if (state === null) {
    throw new Error('useJwtFetch: no jwtfetch instance; install one with app.use(createJwtFetch(config))')
  }
  return state
}
