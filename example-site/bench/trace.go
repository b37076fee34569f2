//go:build !js

package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpio "github.com/chromedp/cdproto/io"
	"github.com/chromedp/cdproto/tracing"
	"github.com/chromedp/chromedp"
)

// Trace categories. toplevel has one event per task that a thread's
// message loop runs (the "RunTask" slices of the DevTools Performance
// panel); blink.user_timing has performance.mark(). The wasm code cache
// events (v8.wasm.cachedModule, v8.wasm.moduleCacheHit, …) are in
// disabled-by-default-devtools.timeline; a list of only disabled-by-default
// categories also turns on every default category, unless "*" is excluded.
var (
	mainThreadCategories = traceCategories{include: []string{"toplevel", "blink.user_timing"}}
	codeCacheCategories  = traceCategories{include: []string{"disabled-by-default-devtools.timeline"}, exclude: []string{"*"}}
)

// traceCategories are the categories a trace records.
type traceCategories struct{ include, exclude []string }

// traceEvent is one event of Chromium's JSON trace format; times are µs on
// the trace clock.
type traceEvent struct {
	Name string          `json:"name"`
	Cat  string          `json:"cat"`
	Ph   string          `json:"ph"`
	Ts   float64         `json:"ts"`
	Dur  float64         `json:"dur"`
	Pid  int             `json:"pid"`
	Tid  int             `json:"tid"`
	Args json.RawMessage `json:"args"`
}

// traced records a trace of the given categories around f and returns its
// events. It traces at the browser level, so the trace covers every
// process, also the renderers that navigations start meanwhile.
func traced(ctx context.Context, categories traceCategories, f func() error) ([]traceEvent, error) {
	_, err := chromedp.CallBrowser(ctx, tracing.Start, tracing.StartParams{
		TransferMode: tracing.StartTransferModeReturnAsStream,
		StreamFormat: tracing.StreamFormatJSON,
		TraceConfig: &tracing.TraceConfig{
			RecordMode:         tracing.TraceConfigRecordModeRecordUntilFull,
			IncludedCategories: categories.include,
			ExcludedCategories: categories.exclude,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("Tracing.start: %w", err)
	}
	ferr := f()
	tctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	complete := chromedp.BrowserEvents(tctx, tracing.TracingComplete)
	if _, err := chromedp.CallBrowser(tctx, tracing.End, cdp.Empty{}); err != nil {
		return nil, errors.Join(ferr, fmt.Errorf("Tracing.end: %w", err))
	}
	var done tracing.EventTracingComplete
	for ev, err := range complete {
		if err != nil {
			return nil, errors.Join(ferr, fmt.Errorf("waiting for the trace: %w", err))
		}
		done = ev
		break
	}
	if ferr != nil {
		return nil, ferr
	}
	if done.Stream == "" {
		return nil, errors.New("Tracing.end: no stream")
	}
	defer chromedp.CallBrowser(ctx, cdpio.Close, cdpio.CloseParams{Handle: done.Stream})
	var raw bytes.Buffer
	for {
		r, err := chromedp.CallBrowser(tctx, cdpio.Read, cdpio.ReadParams{Handle: done.Stream, Size: 4 << 20})
		if err != nil {
			return nil, fmt.Errorf("IO.read: %w", err)
		}
		raw.Write(r.Data)
		if r.EOF {
			break
		}
	}
	return parseTrace(&raw)
}

// parseTrace reads {"traceEvents": [...], ...} (or a bare array) and keeps
// the events, without holding the whole document as generic values.
func parseTrace(r io.Reader) ([]traceEvent, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	readArray := func() ([]traceEvent, error) {
		var out []traceEvent
		for dec.More() {
			var e traceEvent
			if err := dec.Decode(&e); err != nil {
				return nil, fmt.Errorf("trace event: %w", err)
			}
			out = append(out, e)
		}
		_, err := dec.Token() // ]
		return out, err
	}
	if tok == json.Delim('[') {
		return readArray()
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("trace: unexpected %v", tok)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if k == "traceEvents" {
			if t, err := dec.Token(); err != nil || t != json.Delim('[') {
				return nil, fmt.Errorf("trace: traceEvents is not an array")
			}
			return readArray()
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("trace: no traceEvents")
}

// busy is the main thread's work in one window of a trace.
type busy struct {
	wallUS float64 // task time on the thread inside the window
	tasks  int     // tasks (ThreadControllerImpl::RunTask) started in the window
}

// mainThreadBusy finds the performance.mark() events named start and end
// and sums the top-level slices (tasks, and the microtask checkpoints that
// Blink runs after them) of the thread that emitted the marks, the page's
// main thread, over the window between the two marks. Nested slices count
// once; a slice that straddles an edge of the window counts with the part
// inside it.
func mainThreadBusy(events []traceEvent, start, end string) (busy, error) {
	var s, e *traceEvent
	for i := range events {
		ev := &events[i]
		if ev.Cat != "blink.user_timing" {
			continue
		}
		switch ev.Name {
		case start:
			s = ev
		case end:
			e = ev
		}
	}
	if s == nil || e == nil {
		return busy{}, fmt.Errorf("the trace has no marks %q and %q", start, end)
	}
	if s.Pid != e.Pid || s.Tid != e.Tid || e.Ts < s.Ts {
		return busy{}, fmt.Errorf("marks %q and %q are not on one thread in order", start, end)
	}
	lo, hi := s.Ts, e.Ts
	var b busy
	type slice struct{ from, to float64 }
	var spans []slice
	for i := range events {
		ev := &events[i]
		if ev.Ph != "X" || ev.Pid != s.Pid || ev.Tid != s.Tid || !hasCategory(ev.Cat, "toplevel") {
			continue
		}
		if ev.Ts+ev.Dur <= lo || ev.Ts >= hi {
			continue
		}
		if ev.Name == "ThreadControllerImpl::RunTask" && ev.Ts >= lo {
			b.tasks++
		}
		spans = append(spans, slice{ev.Ts, ev.Ts + ev.Dur})
	}
	// By start, the outer of two slices that start together first.
	slices.SortFunc(spans, func(a, b slice) int {
		return cmp.Or(cmp.Compare(a.from, b.from), cmp.Compare(b.to, a.to))
	})
	reach := lo // the end of the time counted so far
	for _, t := range spans {
		if from, to := max(t.from, reach), min(t.to, hi); to > from {
			b.wallUS += to - from
			reach = to
		}
	}
	return b, nil
}

// hasCategory reports whether the comma-separated cats include want.
func hasCategory(cats, want string) bool {
	return slices.Contains(strings.Split(cats, ","), want)
}
