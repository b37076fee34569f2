//go:build !js

package main

import (
	"strings"
	"testing"
)

func TestMainThreadBusy(t *testing.T) {
	const trace = `{"traceEvents": [
		{"cat": "blink.user_timing", "name": "a:start", "ph": "I", "pid": 7, "tid": 7, "ts": 1000},
		{"cat": "toplevel", "name": "ThreadControllerImpl::RunTask", "ph": "X", "pid": 7, "tid": 7, "ts": 990, "dur": 20},
		{"cat": "toplevel", "name": "BlinkScheduler_PerformMicrotaskCheckpoint", "ph": "X", "pid": 7, "tid": 7, "ts": 1010, "dur": 5},
		{"cat": "toplevel", "name": "ThreadControllerImpl::RunTask", "ph": "X", "pid": 7, "tid": 7, "ts": 1100, "dur": 50},
		{"cat": "toplevel,mojom", "name": "Receive mojo message", "ph": "X", "pid": 7, "tid": 7, "ts": 1110, "dur": 30},
		{"cat": "toplevel", "name": "ThreadControllerImpl::RunTask", "ph": "X", "pid": 7, "tid": 8, "ts": 1200, "dur": 500},
		{"cat": "toplevel", "name": "ThreadControllerImpl::RunTask", "ph": "X", "pid": 9, "tid": 7, "ts": 1200, "dur": 500},
		{"cat": "toplevel", "name": "ThreadControllerImpl::RunTask", "ph": "I", "pid": 7, "tid": 7, "ts": 1300},
		{"cat": "toplevel", "name": "ThreadControllerImpl::RunTask", "ph": "X", "pid": 7, "tid": 7, "ts": 1390, "dur": 40},
		{"cat": "blink.user_timing", "name": "a:end", "ph": "I", "pid": 7, "tid": 7, "ts": 1400},
		{"cat": "toplevel", "name": "ThreadControllerImpl::RunTask", "ph": "X", "pid": 7, "tid": 7, "ts": 1500, "dur": 40}
	], "metadata": {"x": [1, 2]}}`
	events, err := parseTrace(strings.NewReader(trace))
	if err != nil {
		t.Fatal(err)
	}
	b, err := mainThreadBusy(events, "a:start", "a:end")
	if err != nil {
		t.Fatal(err)
	}
	// 10 of the task that straddles the start, the checkpoint's 5, the
	// outer 50 (not its nested 30), 10 of the task that straddles the end.
	if b.wallUS != 75 {
		t.Errorf("wall = %v µs, want 75", b.wallUS)
	}
	if b.tasks != 2 { // the ones that start inside the window
		t.Errorf("tasks = %d, want 2", b.tasks)
	}
	if _, err := mainThreadBusy(events, "a:start", "b:end"); err == nil {
		t.Error("no error for a missing mark")
	}
}

func TestCodeCache(t *testing.T) {
	const trace = `[
		{"cat": "disabled-by-default-devtools.timeline", "name": "v8.wasm.compiledModule", "ph": "I", "pid": 1, "tid": 2, "ts": 10, "args": {"url": "http://h/gen/floor.wasm"}},
		{"cat": "disabled-by-default-devtools.timeline", "name": "v8.wasm.cachedModule", "ph": "I", "pid": 1, "tid": 2, "ts": 11, "args": {"producedCacheSize": 1000}},
		{"cat": "disabled-by-default-devtools.timeline", "name": "v8.wasm.compiledModule", "ph": "I", "pid": 3, "tid": 2, "ts": 12, "args": {"url": "http://h/jsglue/jwtfetch.wasm"}},
		{"cat": "disabled-by-default-devtools.timeline", "name": "v8.wasm.cachedModule", "ph": "I", "pid": 3, "tid": 2, "ts": 13, "args": {"producedCacheSize": 7}},
		{"cat": "disabled-by-default-devtools.timeline", "name": "v8.wasm.cachedModule", "ph": "I", "pid": 1, "tid": 2, "ts": 14, "args": {"producedCacheSize": 3000}},
		{"cat": "disabled-by-default-devtools.timeline", "name": "v8.wasm.moduleCacheHit", "ph": "I", "pid": 4, "tid": 4, "ts": 20, "args": {"url": "http://h/jsglue/jwtfetch.wasm", "consumedCacheSize": 5}},
		{"cat": "disabled-by-default-devtools.timeline", "name": "v8.wasm.moduleCacheInvalidDigest", "ph": "I", "pid": 4, "tid": 4, "ts": 21}
	]`
	events, err := parseTrace(strings.NewReader(trace))
	if err != nil {
		t.Fatal(err)
	}
	if got := codeCache(events, "/gen/floor.wasm"); got != (cacheSeen{produced: 3000}) {
		t.Errorf("floor: %+v", got)
	}
	if got := codeCache(events, "/jsglue/jwtfetch.wasm"); got != (cacheSeen{produced: 7, consumed: 5, invalid: 1, hit: true}) {
		t.Errorf("jwtfetch: %+v", got)
	}
}
