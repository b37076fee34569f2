//go:build js && wasm

package jsbridge

import (
	"errors"
	"runtime"
	"sync/atomic"
	"syscall/js"

	"github.com/jwtfetch/jwtfetch/wasm/session"
)

var (
	global    = js.Global()
	jsPromise = global.Get("Promise")
	jsError   = global.Get("Error")
	jsConsole = global.Get("console")
	jsDate    = global.Get("Date")
	jsReflect = global.Get("Reflect")
)

// get reads v[name] for an object the app made (a refresh result, a thrown
// value, a RequestInit). It goes through Reflect.get as a call: Value.Get
// does not catch an exception a getter throws, which then unwinds through
// the Go stack and stops the goroutine for good, while an exception in a
// call becomes a panic that catch turns into an error. Call it inside
// catch; a value that is not an object reads as undefined.
func get(v js.Value, name string) js.Value {
	if t := v.Type(); t != js.TypeObject && t != js.TypeFunction {
		return js.Undefined()
	}
	return jsReflect.Call("get", v, name)
}

// liveFuncs counts the js.Func values made by newFunc and not yet released,
// so a soak test can check that none leak.
var liveFuncs atomic.Int64

func newFunc(fn func(this js.Value, args []js.Value) any) js.Func {
	liveFuncs.Add(1)
	return js.FuncOf(fn)
}

func release(f js.Func) {
	liveFuncs.Add(-1)
	f.Release()
}

// arg returns args[i], or undefined when there are fewer arguments.
func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

// JSError is a value a JavaScript call threw or a promise rejected with.
// Its text came from outside (a storage object's exception, the app's
// refresh function) and may quote a token, so Error and Describe name only
// a standard error name, never the message.
type JSError struct {
	Value js.Value
}

func (e *JSError) Error() string {
	if name := e.Describe(); name != "" {
		return "jwtfetch: JavaScript " + name
	}
	return "jwtfetch: JavaScript exception"
}

// Describe returns the value's name when it is one of the standard error
// names (TypeError, QuotaExceededError, ...), else "". It implements the
// interface session's warnings use to say why without quoting.
func (e *JSError) Describe() string { return errorName(e.Value) }

// standardNames lists the error names of ECMAScript and of the DOMException
// table, each between bars.
const standardNames = "|Error|TypeError|RangeError|SyntaxError|ReferenceError|EvalError|URIError|AggregateError" +
	"|DOMException|QuotaExceededError|SecurityError|InvalidStateError|NotFoundError|NotAllowedError" +
	"|NotSupportedError|AbortError|TimeoutError|DataError|DataCloneError|UnknownError|VersionError" +
	"|ConstraintError|TransactionInactiveError|ReadOnlyError|InvalidAccessError|OperationError" +
	"|NetworkError|EncodingError|NotReadableError|InvalidCharacterError|"

// contains reports whether sub is within s (package strings would cost the
// wasm about 7 KB of brotli).
func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// errorName returns v's name if it is a standard error name, else "". A
// throwing name getter counts as no name.
func errorName(v js.Value) string {
	name := ""
	_ = catch(func() {
		if n := get(v, "name"); n.Type() == js.TypeString && contains(standardNames, "|"+n.String()+"|") {
			name = n.String()
		}
	})
	return name
}

// passError is the outcome of the app's own request that JavaScript gets
// back as it is, as fetch itself would reject: the browser's TypeError or
// AbortError, or the reason the caller's signal was aborted with. No other
// JavaScript value ever goes back unchanged (ToJSError).
type passError struct {
	Value js.Value
}

func (e *passError) Error() string {
	if name := errorName(e.Value); name != "" {
		return "jwtfetch: request failed: " + name
	}
	return "jwtfetch: request failed"
}

// pass marks err, when it is a JavaScript value, as the request's own.
func pass(err error) error {
	if je, ok := err.(*JSError); ok {
		return &passError{Value: je.Value}
	}
	return err
}

// catch runs fn and turns a panic (a JavaScript exception surfaces as a
// js.Error panic) into an error, so no Go panic ever reaches the page.
func catch(fn func()) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		switch x := r.(type) {
		case js.Error:
			err = &JSError{Value: x.Value}
		case error:
			err = errors.New("jwtfetch: internal error: " + x.Error())
		case string:
			err = errors.New("jwtfetch: internal error: " + x)
		default:
			err = errors.New("jwtfetch: internal error")
		}
	}()
	fn()
	return nil
}

// Await waits until v settles when it is a promise (any other value is
// returned at once) or ctx is done. The callbacks release themselves when
// the promise settles; if ctx ends first they stay until it does.
func Await(ctx session.Ctx, v js.Value) (js.Value, error) {
	var p js.Value
	if err := catch(func() { p = jsPromise.Call("resolve", v) }); err != nil {
		return js.Undefined(), err
	}
	return awaitPromise(ctx, p)
}

// awaitPromise is Await for a value known to be a Promise (what fetch,
// Response.text and LockManager.request return), saving a call.
func awaitPromise(ctx session.Ctx, p js.Value) (js.Value, error) {
	ok := make(chan js.Value, 1)
	bad := make(chan js.Value, 1)
	var success, failure js.Func
	success = newFunc(func(_ js.Value, args []js.Value) any {
		release(success)
		release(failure)
		ok <- arg(args, 0)
		return nil
	})
	failure = newFunc(func(_ js.Value, args []js.Value) any {
		release(success)
		release(failure)
		bad <- arg(args, 0)
		return nil
	})
	p.Call("then", success, failure)
	select {
	case v := <-ok:
		return v, nil
	case e := <-bad:
		return js.Undefined(), &JSError{Value: e}
	case <-ctx.Done():
		return js.Undefined(), ctx.Err()
	}
}

// NewPromise returns a Promise settled by work, which runs in its own
// goroutine so that the calling callback returns at once. A panic in work
// rejects the promise.
func NewPromise(work func() (any, error)) js.Value {
	var executor js.Func
	executor = newFunc(func(_ js.Value, args []js.Value) any {
		resolve, reject := arg(args, 0), arg(args, 1)
		go func() {
			var v any
			var err error
			if perr := catch(func() { v, err = work() }); perr != nil {
				err = perr
			}
			if err != nil {
				reject.Invoke(ToJSError(err))
				return
			}
			resolve.Invoke(v)
		}()
		return nil
	})
	p := jsPromise.New(executor) // the executor runs synchronously
	release(executor)
	return p
}

// Rejected returns a Promise rejected with err.
func Rejected(err error) js.Value {
	return jsPromise.Call("reject", ToJSError(err))
}

// ToJSError converts err for JavaScript: a passError gives back its
// original value; anything else becomes an Error named JwtFetchError with a
// code property (the axios-style codes of session.Error) and err's message,
// which never holds text from outside.
func ToJSError(err error) js.Value {
	if pe, ok := err.(*passError); ok {
		return pe.Value
	}
	code, status := "ERR_INTERNAL", 0
	if se := session.AsError(err); se != nil {
		code, status = se.Code, se.Status
	} else if session.IsTimeout(err) {
		code = session.CodeTimeout
	} else if err == session.ErrCanceled {
		code = session.CodeCanceled
	}
	e := jsError.New(err.Error())
	e.Set("name", "JwtFetchError")
	e.Set("code", code)
	if status != 0 {
		e.Set("status", status)
	}
	return e
}

func warn(msg string) {
	_ = catch(func() { jsConsole.Call("warn", msg) })
}

// Stats reports the bridge's live resources, for leak tests: js.Func values
// made here and not released, instances, goroutines, and the Go heap in use
// after a collection.
func Stats() map[string]any {
	// Twice: a js.Value has a finalizer (it releases the JavaScript
	// reference), so the first collection only queues the finalizers of
	// dead values and the second frees them. After one, the heap read
	// anywhere between ~50 and ~640 KB in the soak test.
	for range 2 {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return map[string]any{
		"funcs":      liveFuncs.Load(),
		"clients":    clientCount(),
		"goroutines": runtime.NumGoroutine(),
		"heapAlloc":  m.HeapAlloc,
		"heapInuse":  m.HeapInuse,
	}
}
