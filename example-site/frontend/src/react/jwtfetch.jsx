// React binding of jwtfetch: a provider that owns the instance and a hook
// that reads it.
//
//	<JwtFetchProvider config={{ baseURL: '/api', auth: { refreshURL: '/auth/refresh' } }}>
//	  <App />
//	</JwtFetchProvider>
//	const { api, isAuthenticated, ready } = useJwtFetch() // in a component
import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore } from 'react'
import { create } from '/jsglue/jwtfetch.js'

const Context = createContext(null)

/**
 * JwtFetchProvider creates one jwtfetch instance when it mounts, destroys it
 * when it unmounts, and gives it to the components below it. config is read
 * once, at mount; give the provider a new key to start over with another.
 *
 * The instance is made in an effect, not during render: React may call
 * render functions and useState initializers twice (StrictMode does in
 * development) and drop one result, which would leak an instance nobody
 * destroys. StrictMode's extra unmount and mount of the effect destroys the
 * first instance before any component saw it and creates the one that
 * stays. Until then the provider renders fallback.
 *
 * createInstance, if given, replaces jwtfetch's create(config), to wrap or
 * fake the instance (the demo counts instances with it).
 */
export function JwtFetchProvider({ config, fallback = null, createInstance = create, children }) {
  const [initial] = useState(() => ({ config, createInstance }))
  const [state, setState] = useState({ api: null, ready: false, error: null })

  useEffect(() => {
    const api = initial.createInstance(initial.config)
    let live = true
    setState({ api, ready: false, error: null })
    api.ready.then(
      () => live && setState({ api, ready: true, error: null }),
      (error) => live && setState({ api, ready: false, error }),
    )
    return () => {
      live = false
      api.destroy()
    }
  }, [initial])

  if (state.api === null) return fallback
  return <Context value={state}>{children}</Context>
}

/**
 * useJwtFetch returns { api, isAuthenticated, ready, error }: the instance of
 * the nearest JwtFetchProvider, whether it holds a session (kept in sync
 * through auth.on('tokens'), which also reports another tab's login or
 * logout), whether its runtime is loaded, and the error if loading failed.
 */
export function useJwtFetch() {
  const state = useContext(Context)
  if (state === null) throw new Error('useJwtFetch: no jwtfetch instance; render it inside <JwtFetchProvider>')
  const { api } = state
  const subscribe = useCallback(
    (onChange) => {
      const off = [api.auth.on('tokens', onChange), api.auth.on('expired', onChange)]
      return () => off.forEach((f) => f())
    },
    [api],
  )
  const isAuthenticated = useSyncExternalStore(subscribe, () => api.auth.isAuthenticated())
  return useMemo(() => ({ ...state, isAuthenticated }), [state, isAuthenticated])
}
