// Type definitions for jwtfetch/vue. Hand-written; checked by
// test/bindings-test.ts with `tsc --noEmit` in `make test`.
import type { App, Ref } from 'vue'
import type { CreateConfig, JwtFetchInstance } from './jwtfetch.js'
import type { JwtClaims, LoginFunction, LogoutFunction } from './bindings.js'

export type { JwtClaims, LoginFunction, LogoutFunction } from './bindings.js'

/** The plugin of `createJwtFetch`; `api` is its instance. */
export interface JwtFetchPlugin {
  install(app: App): void
  readonly api: JwtFetchInstance
}

/**
 * Creates a jwtfetch instance and the plugin that provides it to one app:
 * `app.use(createJwtFetch(config))`. The instance is destroyed when the app
 * is unmounted.
 */
export function createJwtFetch(config?: CreateConfig): JwtFetchPlugin

/** What `useJwtFetch` returns. */
export interface JwtFetchState<C = JwtClaims> {
  /** The instance. */
  readonly api: JwtFetchInstance
  /** The runtime is loaded. */
  readonly ready: Readonly<Ref<boolean>>
  /** Why the runtime failed to load, or null. */
  readonly error: Readonly<Ref<unknown>>
  /** Whether there is a session; follows logins, refreshes, logouts and other tabs. */
  readonly isAuthenticated: Readonly<Ref<boolean>>
  /** The payload of the current access token, decoded but not verified; null without one or when it is not a JWT. */
  readonly claims: Readonly<Ref<Readonly<C> | null>>
  readonly login: LoginFunction
  readonly logout: LogoutFunction
}

/** The app's instance and its session, in `setup()`; throws without the plugin. */
export function useJwtFetch<C = JwtClaims>(): JwtFetchState<C>
