// Type test for jwtfetch/vue (vue.d.ts): compiled with `tsc --noEmit` in
// `make test`. Lines marked @ts-expect-error must fail to compile.
import { createApp, defineComponent, h, watch, type Ref } from 'vue'
import { createJwtFetch, useJwtFetch, type JwtClaims, type JwtFetchPlugin, type JwtFetchState } from '../vue.js'
import type { JwtFetchInstance, JwtFetchResponse } from '../jwtfetch.js'

interface MyClaims extends JwtClaims {
  roles: string[]
}

const Profile = defineComponent({
  setup() {
    const { api, ready, error, isAuthenticated, claims, login, logout } = useJwtFetch()
    const i: JwtFetchInstance = api
    const r: boolean = ready.value
    const e: unknown = error.value
    const a: boolean = isAuthenticated.value
    watch(claims, (c) => {
      const sub: string | undefined = c?.sub
      void sub
    })
    async function submit(username: string, password: string) {
      const res: JwtFetchResponse<{ access: string }> = await login('/auth/login', { username, password })
      await logout('/auth/logout', { timeout: 1000 })
      await logout()
      return res.status
    }
    // @ts-expect-error the refs are read-only
    isAuthenticated.value = true
    // @ts-expect-error login needs a URL
    void login()
    void [i, r, e, a, submit]
    return () => h('p', claims.value?.sub ?? 'signed out')
  },
})

const Roles = defineComponent({
  setup() {
    const { claims }: JwtFetchState<MyClaims> = useJwtFetch<MyClaims>()
    const roles: Readonly<Ref<Readonly<MyClaims> | null>> = claims
    return () => h('ul', (roles.value?.roles ?? []).map((r) => h('li', { key: r }, r)))
  },
})

const plugin: JwtFetchPlugin = createJwtFetch({ baseURL: '/api', auth: { refreshURL: '/auth/refresh' } })
const instance: JwtFetchInstance = plugin.api
createApp(defineComponent({ render: () => [h(Profile), h(Roles)] }))
  .use(plugin)
  .mount('#app')

// @ts-expect-error config is a create() config
createJwtFetch({ auth: { refreshStyle: 'xml' } })

void instance
