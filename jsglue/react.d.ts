// Type definitions for jwtfetch/react. Hand-written; checked by
// test/bindings-test.ts with `tsc --noEmit` in `make test`.
import type { ReactNode } from 'react'
import type { CreateConfig, JwtFetchInstance } from './jwtfetch.js'
import type { JwtClaims, LoginFunction, LogoutFunction } from './bindings.js'

export type { JwtClaims, LoginFunction, LogoutFunction } from './bindings.js'

/** Props of `JwtFetchProvider`. */
export interface JwtFetchProviderProps {
  /** The config of `create(config)`; read once, at mount (give the provider a new `key` to start over). */
  config?: CreateConfig
  /** Rendered until the instance exists (one effect after mount). Default: nothing. */
  fallback?: ReactNode
  /** Replaces jwtfetch's `create`, to wrap or fake the instance. */
  createInstance?: (config?: CreateConfig) => JwtFetchInstance
  children?: ReactNode
}

/**
 * Creates one jwtfetch instance when it mounts, destroys it when it
 * unmounts (safe under StrictMode), and gives it to `useJwtFetch()` below.
 */
export function JwtFetchProvider(props: JwtFetchProviderProps): ReactNode

/** What `useJwtFetch` returns. */
export interface JwtFetchState<C = JwtClaims> {
  /** The instance. */
  api: JwtFetchInstance
  /** The runtime is loaded. */
  ready: boolean
  /** Why the runtime failed to load, or null. */
  error: unknown
  /** Whether there is a session; follows logins, refreshes, logouts and other tabs. */
  isAuthenticated: boolean
  /** The payload of the current access token, decoded but not verified; null without one or when it is not a JWT. */
  claims: Readonly<C> | null
  login: LoginFunction
  logout: LogoutFunction
}

/** The instance of the nearest `JwtFetchProvider` and its session; throws outside one. */
export function useJwtFetch<C = JwtClaims>(): JwtFetchState<C>
