// wire.js is the demo page's view of the network, for its timeline
// (timeline.js). It is a classic script loaded in <head>, so it runs before
// any module: it wraps window.fetch, and jwtfetch, which keeps the page's
// fetch when it is imported, sends every request through the wrapper,
// the refresh request of the wasm included. It only watches: requests and
// responses go through unchanged. Nothing is logged; listeners get the
// Authorization value only to tell tokens apart, in memory.
;(() => {
  const pageFetch = window.fetch
  const listeners = new Set()
  let seq = 0

  const emit = (event) => {
    for (const cb of listeners) {
      try {
        cb(event)
      } catch (e) {
        console.error('wire: a timeline listener threw', e?.name ?? 'an error') // its name only: no text that could quote a request
      }
    }
  }

  // accessToken reads the access token of a login or refresh answer from a
  // copy of its body (the fields jwtfetch reads), or resolves null.
  const accessToken = (resp) =>
    resp
      .clone()
      .json()
      .then((d) => d?.access ?? d?.access_token ?? d?.accessToken ?? d?.token ?? null)
      .catch(() => null)

  window.fetch = function fetch(input, init) {
    const req = input instanceof Request ? input : null
    let url
    try {
      url = new URL(req ? req.url : String(input), location.href)
    } catch {
      return pageFetch.call(globalThis, input, init) // fetch reports the bad URL
    }
    const headers = new Headers(init?.headers ?? req?.headers)
    const id = ++seq
    const base = {
      id,
      method: String(init?.method ?? req?.method ?? 'GET').toUpperCase(),
      path: url.origin === location.origin ? url.pathname : url.href,
      authorization: headers.get('authorization'),
      tag: headers.get('x-demo-request'),
    }
    emit({ type: 'send', at: performance.now(), ...base })
    const p = pageFetch.call(globalThis, input, init)
    // Registered before the caller's own reactions, so the body is copied
    // before anyone reads it.
    p.then(
      (resp) => {
        const token = resp.ok && /^\/auth\/(login|refresh)$/.test(base.path) ? accessToken(resp) : Promise.resolve(null)
        emit({ type: 'answer', at: performance.now(), ...base, status: resp.status, token })
      },
      (e) => emit({ type: 'fail', at: performance.now(), ...base, error: e?.name === 'AbortError' ? 'aborted' : 'network error' }),
    )
    return p
  }

  window.demoWire = {
    // on calls cb with every send, answer and fail; it returns a function
    // that stops that.
    on(cb) {
      listeners.add(cb)
      return () => listeners.delete(cb)
    },
  }
})()
