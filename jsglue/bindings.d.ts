// Types the React and Vue bindings share (jwtfetch/react, jwtfetch/vue).
// Hand-written; checked by test/types-test.ts and test/bindings-test.ts.
import type { JwtFetchResponse, RequestConfig, RequestData } from './jwtfetch.js'

/**
 * The payload of a JWT access token, decoded but not verified: for showing
 * (the user's name, the menu a role sees), never for trusting. Pass your own
 * shape to `useJwtFetch<MyClaims>()`.
 */
export interface JwtClaims {
  sub?: string
  iss?: string
  aud?: string | string[]
  exp?: number
  nbf?: number
  iat?: number
  jti?: string
  [claim: string]: unknown
}

/**
 * POSTs `data` to `url` without a token (`skipAuth`), reads the tokens from
 * the answer as a refresh answer is read (access from `access`,
 * `access_token`, `accessToken` or `token`; refresh from `refresh`,
 * `refresh_token` or `refreshToken`; `expires_in`), starts the session and
 * resolves with the response. An answer without an access token rejects
 * with `ERR_BAD_RESPONSE`.
 */
export type LoginFunction = <T = any, D = RequestData>(url: string, data?: D, config?: RequestConfig<D>) => Promise<JwtFetchResponse<T>>

/**
 * Ends the session: when `url` is given, POSTs it first with the token
 * (`skipRefresh`, 5 s timeout unless `config` says otherwise; failures are
 * ignored), then `auth.clear()`. With `auth.logoutURL` set, `auth.clear()`
 * tells the server itself: call `logout()` without a URL.
 */
export type LogoutFunction = (url?: string, config?: RequestConfig) => Promise<void>
