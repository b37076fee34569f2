// wire.js is the demo page's view of the network, for its timeline
// (timeline.js). It is a classic script loaded in <head>, so it runs before
// any module: it wraps window.fetch, and jwtfetch, which keeps the page's
// fetch when it is imported, sends every request through the wrapper,
// the refresh request of the wasm included. It only watches: requests and
// responses go through unchanged. Nothing is logged; listeners get the
// Authorization value only to tell tokens apart, and the DPoP proof only to
// number proofs and read their claims, in memory.
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

  // tokenFields reads the access token and token_type of a login or
  // refresh answer from a copy of its body (the fields jwtfetch reads), or
  // resolves nulls.
  const tokenFields = (resp) =>
    resp
      .clone()
      .json()
      .then((d) => ({ token: d?.access ?? d?.access_token ?? d?.accessToken ?? d?.token ?? null, tokenType: d?.token_type ?? null }))
      .catch(() => ({ token: null, tokenType: null }))

  // challenge resolves the error of a DPoP challenge (RFC 9449 section 7.1):
  // from a 401's WWW-Authenticate, or from the body of a 400 to a request
  // that carried a proof (a token endpoint's {"error":"use_dpop_nonce"});
  // else null.
  const challenge = (resp, proof) => {
    const m = /^DPoP\b.*\berror="([^"]*)"/i.exec(resp.headers.get('www-authenticate') ?? '')
    if (m) return Promise.resolve(m[1])
    if (resp.status !== 400 || !proof) return Promise.resolve(null)
    return resp
      .clone()
      .json()
      .then((d) => (typeof d?.error === 'string' ? d.error : null))
      .catch(() => null)
  }

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
      dpop: headers.get('dpop'),
      tag: headers.get('x-demo-request'),
    }
    emit({ type: 'send', at: performance.now(), ...base })
    const p = pageFetch.call(globalThis, input, init)
    // Registered before the caller's own reactions, so the body is copied
    // before anyone reads it.
    p.then(
      (resp) => {
        const fields = resp.ok && /^\/auth\/(login|refresh)$/.test(base.path) ? tokenFields(resp) : Promise.resolve({})
        emit({
          type: 'answer',
          at: performance.now(),
          ...base,
          status: resp.status,
          token: fields.then((f) => f.token ?? null),
          tokenType: fields.then((f) => f.tokenType ?? null),
          challenge: challenge(resp, base.dpop),
          nonce: resp.headers.get('dpop-nonce'),
        })
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
