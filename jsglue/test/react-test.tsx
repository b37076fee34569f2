// Type test for jwtfetch/react (react.d.ts): compiled with `tsc --noEmit` in
// `make test`. Lines marked @ts-expect-error must fail to compile.
import { createElement, useEffect, type ReactNode } from 'react'
import { JwtFetchProvider, useJwtFetch, type JwtClaims, type JwtFetchState } from '../react.js'
import { create, type JwtFetchInstance, type JwtFetchResponse } from '../jwtfetch.js'

interface MyClaims extends JwtClaims {
  sub: string
  roles: string[]
}

function Profile(): ReactNode {
  const { api, ready, error, isAuthenticated, claims, login, logout } = useJwtFetch()
  const i: JwtFetchInstance = api
  const r: boolean = ready
  const e: unknown = error
  const a: boolean = isAuthenticated
  const sub: string | undefined = claims?.sub
  const exp: number | undefined = claims?.exp
  const other: unknown = claims?.anything
  useEffect(() => {
    void login<{ access: string }>('/auth/login', { username: 'demo', password: 'x' }, { timeout: 3000 }).then(
      (res: JwtFetchResponse<{ access: string }>) => res.status,
    )
    const done: Promise<void> = logout('/auth/logout')
    void logout()
    void done
  }, [login, logout])
  void [i, r, e, a, exp, other]
  return <p>{sub ?? 'signed out'}</p>
}

function Roles() {
  const { claims }: JwtFetchState<MyClaims> = useJwtFetch<MyClaims>()
  const roles: string[] | undefined = claims?.roles
  // @ts-expect-error the claims are read-only
  if (claims) claims.sub = 'x'
  return <ul>{roles?.map((r) => <li key={r}>{r}</li>)}</ul>
}

export const app = (
  <JwtFetchProvider config={{ baseURL: '/api', auth: { refreshURL: '/auth/refresh' } }} fallback={<p>loading…</p>}>
    <Profile />
    <Roles />
  </JwtFetchProvider>
)

export const faked = (
  <JwtFetchProvider config={{}} createInstance={(cfg) => create(cfg)}>
    <Profile />
  </JwtFetchProvider>
)

export const plain = createElement(JwtFetchProvider, { config: { baseURL: '/' } }, createElement(Profile))

// @ts-expect-error config is a create() config
export const bad = <JwtFetchProvider config={{ auth: { storage: 'cookie' } }} />

function Misuse() {
  const { login, logout } = useJwtFetch()
  // @ts-expect-error login needs a URL
  void login()
  // @ts-expect-error logout's URL is a string
  void logout(1)
  return null
}
void Misuse
