// The demo page as a Vue component: log in, call a protected API across
// token expiry, log out. Written with render functions, so the bundle needs
// no template compiler; the element ids are the vanilla page's.
import { defineComponent, h, onUnmounted, ref, watch } from 'vue'
import { useJwtFetch } from 'jwtfetch/vue'
import { errorText, eventNames, expiredMessage, expiry, expiryText } from '../shared/demo.js'

export default defineComponent({
  name: 'App',
  setup() {
    const { api, isAuthenticated, ready, error: loadError, claims, login, logout } = useJwtFetch()
    const username = ref('demo')
    const password = ref('demo123')
    const me = ref('')
    const error = ref('')
    const events = ref([])
    let nextEvent = 0

    const off = eventNames.map((name) =>
      api.auth.on(name, () => {
        events.value = [{ id: nextEvent++, text: `${new Date().toLocaleTimeString()} ${name}` }, ...events.value]
        if (name === 'expired') error.value = expiredMessage
      }),
    )
    onUnmounted(() => off.forEach((f) => f()))
    watch(loadError, (e) => {
      if (e) error.value = errorText(e)
    })

    async function loadProfile() {
      error.value = ''
      try {
        const { data } = await api.get('/api/me')
        me.value = JSON.stringify(data, null, 2)
      } catch (e) {
        error.value = errorText(e)
      }
    }

    // A session kept from an earlier visit: show it at once. (ready turns
    // true only once.)
    watch(
      ready,
      (r) => {
        if (r && isAuthenticated.value) loadProfile()
      },
      { immediate: true },
    )

    async function submit(ev) {
      ev.preventDefault()
      error.value = ''
      try {
        await login('/auth/login', { username: username.value, password: password.value })
        await loadProfile()
      } catch (e) {
        error.value = e.response?.status === 401 ? 'wrong user or password' : errorText(e)
      }
    }

    async function burst() {
      error.value = ''
      me.value = 'sending 20 requests…'
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => api.get('/api/me')))
      const ok = results.filter((r) => r.status === 'fulfilled').length
      me.value = `${ok} of 20 succeeded`
    }

    async function signOut() {
      // The server revokes the session of the token it is sent; the tokens
      // are forgotten here even if it is down.
      await logout('/auth/logout', { timeout: 3000 })
      me.value = ''
    }

    const state = () => (!ready.value ? 'loading…' : isAuthenticated.value ? 'signed in' : 'signed out')

    return () => {
      const signedIn = ready.value && isAuthenticated.value
      return [
        h('form', { id: 'login-form', hidden: !ready.value || signedIn, onSubmit: submit }, [
          h('label', [
            'User ',
            h('input', {
              id: 'username',
              name: 'username',
              autocomplete: 'username',
              value: username.value,
              onInput: (e) => (username.value = e.target.value),
            }),
          ]),
          h('label', [
            'Password ',
            h('input', {
              id: 'password',
              name: 'password',
              type: 'password',
              autocomplete: 'current-password',
              value: password.value,
              onInput: (e) => (password.value = e.target.value),
            }),
          ]),
          h('button', { id: 'login', type: 'submit' }, 'Log in'),
        ]),
        h('section', { id: 'profile', hidden: !signedIn }, [
          // The user and the expiry come from the access token's claims,
          // which follow every refresh.
          h('p', [
            'Signed in as ',
            h('strong', { id: 'user' }, claims.value?.sub ?? '?'),
            ' · access token valid until ',
            h('time', { id: 'expires', datetime: expiry(claims.value)?.toISOString() }, expiryText(claims.value)),
          ]),
          h('p', [
            h('button', { id: 'load', onClick: loadProfile }, 'Load profile'),
            h('button', { id: 'burst', onClick: burst }, '20 requests at once'),
            h('button', { id: 'logout', onClick: signOut }, 'Log out'),
          ]),
          h('pre', { id: 'me' }, me.value),
        ]),
        h('p', { id: 'state', 'aria-live': 'polite' }, state()),
        h('p', { id: 'error', class: 'error', role: 'alert' }, error.value),
        h('h2', 'Events'),
        h(
          'ol',
          { id: 'events' },
          events.value.map((ev) => h('li', { key: ev.id }, ev.text)),
        ),
      ]
    }
  },
})
