// jwtfetch/react: a provider that owns one jwtfetch instance and a hook
// that reads it. Plain JavaScript (createElement, no JSX), React 18 or later.
//
//	<JwtFetchProvider config={{ baseURL: '/api', auth: { refreshURL: '/auth/refresh' } }}>
//	  <App />
//	</JwtFetchProvider>
//	const { api, ready, isAuthenticated, claims, login, logout } = useJwtFetch() // in a component
import {
  createContext,
  createElement,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
} from 'react'
import { create } from './jwtfetch.js'
import { accessToken, decodeClaims, isAuthenticated, login, logout, onSessionChange } from './bindings.js'

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

  // login and logout are made once per instance, so that components can
  // list them as effect dependencies.
  const { api } = state
  const actions = useMemo(
    () => ({
      login: (url, data, cfg) => login(api, url, data, cfg),
      logout: (url, cfg) => logout(api, url, cfg),
    }),
    [api],
  )
  const value = useMemo(() => ({ ...state, ...actions }), [state, actions])
  if (api === null) return fallback
  return createElement(Context.Provider, { value }, children)
}

/**
 * useJwtFetch returns, for the nearest JwtFetchProvider:
 *
 *   - api: the jwtfetch instance;
 *   - ready: its runtime is loaded; error: why loading failed, or null;
 *   - isAuthenticated: whether it holds a session;
 *   - claims: the payload of the current access token, decoded (not
 *     verified), or null;
 *   - login(url, data, config?): POST the credentials, start the session
 *     with the tokens of the answer, resolve with the response;
 *   - logout(url?, config?): tell the server (when url is given), then
 *     clear the session.
 *
 * isAuthenticated and claims follow every change of the session: a login,
 * a refresh, a logout, another tab's (through auth.on, read with
 * useSyncExternalStore).
 */
export function useJwtFetch() {
  const value = useContext(Context)
  if (value === null) throw new Error('useJwtFetch: no jwtfetch instance; render it inside <JwtFetchProvider>')
  const { api } = value
  // subscribe must keep its identity while api does, or React subscribes
  // again on every render.
  const subscribe = useMemo(() => (onChange) => onSessionChange(api, onChange), [api])
  const authenticated = useSyncExternalStore(subscribe, () => isAuthenticated(api))
  const token = useSyncExternalStore(subscribe, () => accessToken(api))
  const claims = useMemo(() => decodeClaims(token), [token])
  return useMemo(() => ({ ...value, isAuthenticated: authenticated, claims }), [value, authenticated, claims])
}
