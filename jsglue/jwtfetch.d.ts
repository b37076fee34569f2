// Type definitions for jwtfetch. Hand-written; checked by types-test.ts with
// `tsc --noEmit` in `make test`.

/** Options of `load`. */
export interface LoadOptions {
  /** Where jwtfetch.wasm is. Default: `new URL('./jwtfetch.wasm', import.meta.url)`. */
  wasmURL?: string | URL
}

/**
 * Starts loading the wasm runtime and resolves when it is ready. Optional:
 * `create()` calls it with the defaults. Calling it twice loads once.
 */
export function load(options?: LoadOptions): Promise<unknown>

/** What a refresh function resolves with. */
export interface RefreshResult {
  /** The new access token. */
  accessToken: string
  /** A rotated refresh token; omit it to keep the current one. */
  refreshToken?: string
  /** Seconds until the access token expires, for tokens that are not JWTs. */
  expiresIn?: number
}

/** A Storage-like object, such as `localStorage`. Its methods may throw; jwtfetch then keeps the session in memory. */
export interface StorageLike {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

/**
 * Everything about tokens. Without `refreshURL` or `refresh` nothing is
 * refreshed, and `create()` warns once; `refresh: null` says that is meant.
 */
export interface AuthConfig {
  /** Endpoint that exchanges a refresh token for new tokens; relative to `baseURL`. */
  refreshURL?: string | null
  /**
   * How the refresh request is sent. `'json'` (default): POST `{"refresh": token}`.
   * `'oauth2'`: POST form `grant_type=refresh_token&refresh_token=…[&client_id=…]` (RFC 6749 §6).
   */
  refreshStyle?: 'json' | 'oauth2'
  /** Sent as `client_id` with `refreshStyle: 'oauth2'`. */
  clientId?: string
  /**
   * Your own refresh; overrides `refreshURL`. Resolve with the new tokens;
   * resolve with null, or reject with an error whose `status` (or
   * `response.status`) is 400, 401 or 403, to end the session. Any other
   * rejection is a failed refresh that keeps the tokens (`ERR_NETWORK`).
   * Its message is never copied into jwtfetch's errors or warnings: it may
   * quote the token; log it inside the function to see it.
   */
  refresh?: ((refreshToken: string) => Promise<RefreshResult | null> | RefreshResult | null) | null
  /** Statuses that mean "access token no longer good". Default `[401]`. */
  refreshOn?: number[]
  /** Seconds before the JWT `exp` at which a request refreshes first (at most half the token's lifetime). Default 30. */
  leeway?: number
  /** Milliseconds; a refresh that takes longer fails every waiting request. Default 10000. */
  refreshTimeout?: number
  /** Where the session is kept. Default `'local'`. */
  storage?: 'local' | 'session' | 'memory' | StorageLike
  /** Key (namespace) in storage. Default `'jwtfetch'`. */
  storageKey?: string
  /**
   * Header that carries the token. Default `'Authorization'`. Browsers drop
   * only Authorization when a redirect leads to another origin, so a
   * request with the token in any other header follows no redirect away
   * from its origin: it fails with a network error (`ERR_NETWORK`) instead.
   */
  header?: string
  /** Scheme before the token; `''` sends the bare token. Default `'Bearer'`. */
  scheme?: string
  /**
   * Origins that may receive the token, with their scheme
   * (`'https://api.example.com'`; `create()` throws `ERR_BAD_OPTION_VALUE`
   * for anything else). Default: `baseURL`'s origin and the page's origin.
   */
  origins?: string[]
  /** Share tokens between tabs. Default true. */
  crossTab?: boolean
  /**
   * Also treat a network error of a request that carried a token as "token
   * no longer good" (refresh and retry once). For servers that forget CORS
   * headers on their 401s, which the browser then reports as network
   * errors. Default false.
   */
  refreshOnNetworkError?: boolean
  /** Called once when the session cannot be refreshed (the tokens are cleared). */
  onExpired?: () => void
  /**
   * Where the refresh token lives. `'storage'` (default): in `storage`, with
   * the access token. `'cookie'`: in the server's HttpOnly cookie; the access
   * token stays in memory, storage holds only a "signed in" marker, tabs
   * share new tokens over a BroadcastChannel, and a refresh POSTs
   * `refreshURL` with credentials and the XSRF header.
   */
  mode?: 'storage' | 'cookie'
  /**
   * POSTed with credentials (and the XSRF header) by `auth.clear()`, so the
   * server can end the session and delete its cookie. Relative to `baseURL`.
   */
  logoutURL?: string | null
  /**
   * DPoP (RFC 9449): sender-constrained tokens. Every request to an allowed
   * origin carries a `DPoP` proof signed by a non-extractable ECDSA P-256
   * key (kept in IndexedDB under `storageKey`, shared by the tabs, replaced
   * by `auth.clear()`); the token goes as `Authorization: DPoP <token>`
   * unless `scheme` says otherwise. Server nonces (`DPoP-Nonce`) are
   * remembered per origin and a `use_dpop_nonce` challenge is answered once.
   * Needs a secure context (https or localhost). Default false.
   */
  dpop?: boolean
}

/** How the response body is read. */
export type ResponseType = 'json' | 'text' | 'blob' | 'arraybuffer' | 'stream'

/** Header values; null, undefined or false removes a header set by the defaults. */
export type HeaderValues = Record<string, string | number | boolean | null | undefined>

/** Request headers: flat, or axios-style with `common` and per-method sections. */
export type RequestHeaders =
  | Headers
  | { [name: string]: string | number | boolean | null | undefined | HeaderValues }

/** HTTP methods, as axios spells them. */
export type Method =
  | 'get' | 'GET' | 'delete' | 'DELETE' | 'head' | 'HEAD' | 'options' | 'OPTIONS'
  | 'post' | 'POST' | 'put' | 'PUT' | 'patch' | 'PATCH'

/** A request body: plain objects and arrays are sent as JSON, the rest as they are. */
export type RequestData =
  | Record<string, unknown>
  | unknown[]
  | string
  | FormData
  | URLSearchParams
  | Blob
  | ArrayBuffer
  | ArrayBufferView
  | ReadableStream<Uint8Array>
  | null

/** Query parameters; arrays repeat the key. */
export type Params =
  | URLSearchParams
  | Record<string, string | number | boolean | Date | null | undefined | Array<string | number | boolean | Date>>

/** Per-request options, the same names and meaning as axios. */
export interface RequestConfig<D = RequestData> {
  /** Resolved against `baseURL` unless absolute. */
  url?: string
  /** Default `'get'`. */
  method?: Method
  /** Prefix for relative URLs. */
  baseURL?: string
  /** Request headers, merged over the defaults case-insensitively. */
  headers?: RequestHeaders
  /** Query parameters appended to the URL. */
  params?: Params
  /** The request body. */
  data?: D
  /** Milliseconds before the request fails with `ECONNABORTED`, also while it waits for a refresh; 0 = none. */
  timeout?: number
  /** Send cookies to other origins (fetch `credentials: 'include'`). */
  withCredentials?: boolean
  /**
   * The readable cookie whose value is sent in `xsrfHeaderName` on requests
   * with credentials to allowed origins (the refresh in cookie mode too), as
   * axios does. Default `'XSRF-TOKEN'`.
   */
  xsrfCookieName?: string
  /** The header that carries the `xsrfCookieName` cookie's value. Default `'X-XSRF-TOKEN'`. */
  xsrfHeaderName?: string
  /** Which statuses resolve; others reject with `ERR_BAD_REQUEST`/`ERR_BAD_RESPONSE`. Default: 2xx. null: all resolve. */
  validateStatus?: ((status: number) => boolean) | null
  /** How the body is read. Default `'json'`: parsed when the content type is JSON, else text. */
  responseType?: ResponseType
  /** Aborts the request at any stage, also while it waits for a refresh (`ERR_CANCELED`). */
  signal?: AbortSignal
  /** Send no token and never refresh. */
  skipAuth?: boolean
  /** Send the token but hand a `refreshOn` status back as it is. */
  skipRefresh?: boolean
}

/** Options of `create`. */
export interface CreateConfig extends Omit<RequestConfig, 'url' | 'method' | 'data' | 'signal' | 'skipAuth' | 'skipRefresh'> {
  /** Token options. */
  auth?: AuthConfig
  /** Where jwtfetch.wasm is, when not next to jwtfetch.js. */
  wasmURL?: string | URL
}

/** The merged config a request was made with. */
export interface ResolvedConfig extends RequestConfig {
  headers: Record<string, string>
  method: Lowercase<Method>
}

/** A response of `request`, `get`, `post`, … */
export interface JwtFetchResponse<T = any> {
  /** The parsed body. */
  data: T
  status: number
  statusText: string
  /** Response headers with lower-case names. */
  headers: Record<string, string>
  /** The config the request was made with. */
  config: ResolvedConfig
  /** The fetch Response (its body is already read unless `responseType` is `'stream'`). */
  raw: Response
}

/** Error codes, as axios's plus `ERR_AUTH_EXPIRED`. */
export type ErrorCode =
  | 'ERR_BAD_REQUEST'
  | 'ERR_BAD_RESPONSE'
  | 'ERR_NETWORK'
  | 'ECONNABORTED'
  | 'ERR_CANCELED'
  | 'ERR_AUTH_EXPIRED'
  | 'ERR_BAD_OPTION_VALUE'
  | 'ERR_DESTROYED'
  | (string & {})

/** The error of every rejected request. */
export class JwtFetchError<T = any> extends Error {
  constructor(message: string, code?: ErrorCode, config?: ResolvedConfig, response?: JwtFetchResponse<T>, cause?: unknown)
  readonly name: 'JwtFetchError'
  code: ErrorCode
  config?: ResolvedConfig
  /** The response, when the server answered. */
  response?: JwtFetchResponse<T>
}

/** True for a JwtFetchError; compares the name, so it works across frames and bundles. */
export function isJwtFetchError<T = any>(e: unknown): e is JwtFetchError<T>

/** Interceptors, as axios's: `use` returns an id for `eject`. */
export interface InterceptorManager<V> {
  use(onFulfilled?: ((value: V) => V | Promise<V>) | null, onRejected?: ((error: any) => any) | null): number
  eject(id: number): void
  clear(): void
}

/** Events of `auth.on`. */
export type AuthEvent = 'tokens' | 'refresh' | 'expired'

/** What a listener learns with each event. */
export interface AuthEventDetail {
  /** Whether there is a session after the change (a login or refresh: true; a logout or expiry: false). */
  readonly authenticated: boolean
  /** Whether the change was made in another tab (or by another instance or Go program sharing `storageKey`). */
  readonly fromOtherTab: boolean
}

/** The token side of an instance. */
export interface Auth {
  /**
   * Starts a session (after a login). Works before the runtime is ready too.
   * Throws `ERR_BAD_OPTION_VALUE` at once when neither token is given (say,
   * `{ access, refresh }`: the message names the fields to rename).
   */
  setTokens(tokens: { accessToken?: string; refreshToken?: string; expiresIn?: number }): void
  /** Ends the session (logout). */
  clear(): void
  /** The current access token, or null. */
  accessToken(): string | null
  /** Whether there is a session: an access token or a refresh token. */
  isAuthenticated(): boolean
  /** Forces a refresh (or joins the one in flight); resolves with the new access token. */
  refresh(): Promise<string>
  /** Listens to an event; returns the function that stops listening. */
  on(event: AuthEvent, cb: (event: AuthEvent, detail: AuthEventDetail) => void): () => void
}

/** An instance, shaped like an axios instance. */
export interface JwtFetchInstance {
  /** Resolves when the runtime is ready. */
  readonly ready: Promise<void>
  /** The instance's defaults; mutable, like `axios.defaults`. */
  defaults: CreateConfig & { headers: RequestHeaders }
  interceptors: {
    /** Run before the token is attached, last-added first. */
    request: InterceptorManager<ResolvedConfig>
    /** See the final result after any refresh and retry, first-added first. */
    response: InterceptorManager<JwtFetchResponse>
  }
  request<T = any, D = RequestData>(config: RequestConfig<D>): Promise<JwtFetchResponse<T>>
  request<T = any, D = RequestData>(url: string, config?: RequestConfig<D>): Promise<JwtFetchResponse<T>>
  get<T = any>(url: string, config?: RequestConfig): Promise<JwtFetchResponse<T>>
  delete<T = any>(url: string, config?: RequestConfig): Promise<JwtFetchResponse<T>>
  head<T = any>(url: string, config?: RequestConfig): Promise<JwtFetchResponse<T>>
  options<T = any>(url: string, config?: RequestConfig): Promise<JwtFetchResponse<T>>
  post<T = any, D = RequestData>(url: string, data?: D, config?: RequestConfig<D>): Promise<JwtFetchResponse<T>>
  put<T = any, D = RequestData>(url: string, data?: D, config?: RequestConfig<D>): Promise<JwtFetchResponse<T>>
  patch<T = any, D = RequestData>(url: string, data?: D, config?: RequestConfig<D>): Promise<JwtFetchResponse<T>>
  /**
   * Exactly `window.fetch` (resolves on any HTTP status, rejects on network
   * error or abort) plus auth and refresh. `init.skipAuth` and
   * `init.skipRefresh` work here too.
   */
  fetch(input: RequestInfo | URL, init?: RequestInit & { skipAuth?: boolean; skipRefresh?: boolean }): Promise<Response>
  auth: Auth
  /** Releases the instance (React StrictMode, hot reload). */
  destroy(): void
}

/** Live resources of the runtime, for leak tests; not part of the stable API. */
export function debugStats(): Promise<{ funcs: number; clients: number; goroutines: number; heapAlloc: number; heapInuse: number }>

/** Returns an instance synchronously, like `axios.create`. */
export function create(config?: CreateConfig): JwtFetchInstance

declare const jwtfetch: {
  create: typeof create
  load: typeof load
  isJwtFetchError: typeof isJwtFetchError
  JwtFetchError: typeof JwtFetchError
}
export default jwtfetch
