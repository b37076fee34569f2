//go:build js && wasm

package jsbridge

import (
	"errors"
	"sync"
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

// DPoP (RFC 9449, auth.dpop): the key and the signatures. The key is an
// ECDSA P-256 pair made by WebCrypto with a private key that cannot be
// exported: no script, this one included, can read it, only ask WebCrypto
// to sign with it. The shim keeps it (ns.dpopKey) in IndexedDB under the
// storage key, so the tabs of the origin, and the page after a reload, sign
// with the key their tokens are bound to, and it signs (ns.sign): both are
// a few lines of JavaScript that would cost the wasm ~20 KB of brotli.
// Go decides what each proof says (session.DPoP), when a key is read again
// (another tab changed the session) and when a new one is made
// (auth.clear()).

// dpopKey is a loaded key: the private key to sign with and the JOSE
// header that names its public half.
type dpopKey struct {
	priv   js.Value
	header string
}

// dpopKeyTimeout bounds loading or making the key: a proof that cannot be
// made fails its request instead of leaving it pending. A variable for the
// tests.
var dpopKeyTimeout = 10 * session.Second

// prover is a client's DPoP: session.Prover for the refresh request, and
// the proofs of the requests the shim sends (exports.go).
type prover struct {
	d *session.DPoP
	// sign(privateKey, input) returns a Promise of the proof: input, a dot
	// and the signature. keyFn(storageKey, renew) returns a Promise of
	// {key, x, y}: the private key and its public coordinates, the key
	// stored under storageKey (null: one of this instance only), made and
	// stored when there is none or renew is set.
	sign, keyFn js.Value
	storageKey  any
	// renewOnClear: auth.clear() makes a new key (see newClient).
	renewOnClear bool

	mu sync.Mutex
	k  *dpopKey
	// loading is the load in flight; gen moves when the key is dropped,
	// so that a load started before does not install its key; renew is
	// set by clear(): the next load makes a new key whatever is stored.
	loading *keyLoad
	gen     uint64
	renew   bool
}

type keyLoad struct {
	done chan struct{}
	k    *dpopKey
	err  error
}

var errNoWebCrypto = &session.Error{Code: session.CodeBadOption, Message: "auth.dpop needs WebCrypto (crypto.subtle), " +
	"which browsers give only to secure contexts: https, or http://localhost"}

// newProver returns the DPoP of a client whose session is kept under
// storageKey; shared tells whether the key is kept for the tabs and
// reloads (any storage but memory). sign and keyFn are the shim's.
func newProver(storageKey string, shared bool, sign, keyFn js.Value) (*prover, error) {
	// A random UUID starts this instance's jti values; crypto.randomUUID,
	// like crypto.subtle, exists only in secure contexts.
	var id js.Value
	if err := catch(func() { id = global.Get("crypto").Call("randomUUID") }); err != nil || id.Type() != js.TypeString {
		return nil, errNoWebCrypto
	}
	if sign.Type() != js.TypeFunction || keyFn.Type() != js.TypeFunction {
		return nil, errors.New("jwtfetch: auth.dpop needs the module's sign and dpopKey")
	}
	p := &prover{d: session.NewDPoP(Clock{}, id.String()), sign: sign, keyFn: keyFn}
	if shared {
		p.storageKey = storageKey
	}
	return p, nil
}

// current returns the loaded key, nil while there is none.
func (p *prover) current() *dpopKey {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.k
}

// key returns the key, loading or making it first when needed.
func (p *prover) key(ctx session.Ctx) (*dpopKey, error) {
	p.mu.Lock()
	if k := p.k; k != nil {
		p.mu.Unlock()
		return k, nil
	}
	l := p.loading
	if l == nil {
		l = &keyLoad{done: make(chan struct{})}
		p.loading = l
		go p.load(l, p.gen, p.renew)
	}
	p.mu.Unlock()
	select {
	case <-l.done:
		return l.k, l.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *prover) load(l *keyLoad, gen uint64, renew bool) {
	ctx, stop := session.WithTimeout(Clock{}, dpopKeyTimeout)
	defer stop()
	var v js.Value
	err := catch(func() { v = p.keyFn.Invoke(p.storageKey, renew) })
	if err == nil {
		v, err = Await(ctx, v)
	}
	var k *dpopKey
	if err == nil {
		err = catch(func() {
			x, y := v.Get("x"), v.Get("y")
			if x.Type() == js.TypeString && y.Type() == js.TypeString {
				k = &dpopKey{priv: v.Get("key"), header: session.DPoPHeader(x.String(), y.String())}
			}
		})
		if k == nil && err == nil {
			err = errors.New("jwtfetch: no DPoP key")
		}
	}
	p.mu.Lock()
	if p.loading == l {
		p.loading = nil
	}
	if err == nil && p.gen == gen {
		p.k, p.renew = k, false
	}
	p.mu.Unlock()
	l.k, l.err = k, err
	close(l.done)
}

// drop forgets the loaded key: the next proof loads it again. With renew
// (auth.clear()) a new key is made at once and replaces the stored one,
// for every tab; without (another tab changed the session: it may have
// made a new key) the stored key is read again when next needed.
func (p *prover) drop(renew bool) {
	p.mu.Lock()
	p.gen++
	p.k, p.loading = nil, nil
	if renew {
		p.renew = true
	}
	p.mu.Unlock()
	if renew {
		go func() {
			ctx, stop := session.WithTimeout(Clock{}, dpopKeyTimeout)
			defer stop()
			_, _ = p.key(ctx)
		}()
	}
}

// clear ends the session here: the nonces go, and the key is replaced or
// read again (renewOnClear).
func (p *prover) clear() {
	p.d.Forget()
	p.drop(p.renewOnClear)
}

// Prove implements session.Prover (the refresh request).
func (p *prover) Prove(ctx session.Ctx, method, url, token string) (string, string, error) {
	k, err := p.key(ctx)
	if err != nil {
		return "", "", err
	}
	input, nonce := p.d.Input(k.header, method, url, token)
	var v js.Value
	if err = catch(func() { v = p.sign.Invoke(k.priv, input) }); err == nil {
		v, err = Await(ctx, v)
	}
	if err != nil {
		return "", "", err
	}
	if v.Type() != js.TypeString {
		return "", "", errors.New("jwtfetch: the DPoP proof is not a string")
	}
	return v.String(), nonce, nil
}

// Remember implements session.Prover.
func (p *prover) Remember(url, nonce string) bool { return p.d.Remember(url, nonce) }

// proof answers the shim's proof(id, method, url, value) for a request
// that may carry a proof: [Promise of the proof, nonce], at once when the
// key is loaded (no goroutine, no waiting in Go), else in a Promise once
// it is. The load is bounded by dpopKeyTimeout; the waiters wait for its
// end, so that one that fails is not joined by the next request.
func (p *prover) proof(method, url, token string) any {
	if k := p.current(); k != nil {
		input, nonce := p.d.Input(k.header, method, url, token)
		return []any{p.sign.Invoke(k.priv, input), nonce}
	}
	return NewPromise(func() (any, error) {
		k, err := p.key(session.Background)
		if err != nil {
			return nil, dpopError(err)
		}
		input, nonce := p.d.Input(k.header, method, url, token)
		return []any{p.sign.Invoke(k.priv, input), nonce}, nil
	})
}

// dpopError is the error of a request whose proof could not be made,
// without the browser's text.
func dpopError(err error) error {
	if e := session.AsError(err); e != nil {
		return e
	}
	return &session.Error{Code: session.CodeNetwork, Message: "no DPoP proof could be made: the key could not be loaded or made", Err: err}
}
