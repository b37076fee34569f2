//go:build !js

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"math"
	"os"
	"strconv"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// quiet turns off the DevTools domains that chromedp enables on every tab
// and that the workloads do not need. With the Network domain on, the
// renderer reports every request to DevTools (with the initiator's stack),
// work on the main thread that a user's page does not do.
var quiet = chromedp.Func(quietDomains)

func quietDomains(ctx context.Context, t *chromedp.Target) error {
	for _, c := range []cdp.Command[cdp.Empty, cdp.Empty]{network.Disable, css.Disable, dom.Disable, cdplog.Disable} {
		if _, err := cdp.Call(ctx, t, c, cdp.Empty{}); err != nil {
			return fmt.Errorf("%s: %w", c.Method, err)
		}
	}
	return nil
}

// threadClock reads the CPU time of one thread of another process: the
// first field of /proc/PID/task/TID/schedstat, the nanoseconds the Linux
// scheduler has run the thread. A nil clock reads nothing.
type threadClock struct{ path string }

func (c *threadClock) read() (time.Duration, bool) {
	if c == nil {
		return 0, false
	}
	b, err := os.ReadFile(c.path)
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0, false
	}
	ns, err := strconv.ParseInt(string(f[0]), 10, 64)
	return time.Duration(ns), err == nil
}

// around runs f and returns the thread's CPU time meanwhile in µs, NaN when
// the clock cannot be read.
func (c *threadClock) around(f func()) float64 {
	t0, ok0 := c.read()
	f()
	t1, ok1 := c.read()
	if !ok0 || !ok1 {
		return math.NaN()
	}
	return float64(t1-t0) / float64(time.Microsecond)
}

// pageMainThread finds the main thread of the page in ctx: the thread that
// emits its performance.mark() in a trace. Chromium runs without a sandbox
// here, so trace pids and tids are the kernel's.
func pageMainThread(ctx context.Context) (*threadClock, error) {
	const mark = "bench-main-thread"
	events, err := traced(ctx, traceCategories{include: []string{"blink.user_timing"}}, func() error {
		_, err := eval[bool](ctx, fmt.Sprintf(`(performance.mark(%q), true)`, mark), 10*time.Second)
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e.Name != mark {
			continue
		}
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", e.Pid))
		if err != nil {
			return nil, err
		}
		if !bytes.Contains(cmd, []byte("--type=renderer")) {
			return nil, fmt.Errorf("process %d of the mark is no renderer", e.Pid)
		}
		c := &threadClock{path: fmt.Sprintf("/proc/%d/task/%d/schedstat", e.Pid, e.Tid)}
		if _, ok := c.read(); !ok {
			return nil, fmt.Errorf("cannot read %s", c.path)
		}
		return c, nil
	}
	return nil, errors.New("the trace has no mark")
}

// perRequest divides the µs of a workload by its n requests; NaN when none
// succeeded.
func perRequest(us float64, ok, n int) float64 {
	if ok == 0 || n == 0 {
		return math.NaN()
	}
	return us / float64(n)
}

// idleWindowMS is the length of the idle windows, in which the page does
// nothing, that show its background work on the main thread.
const idleWindowMS = 500

// mainThread records, in rounds, a trace of the sequential workload: each
// round one trace in which every candidate in turn makes r.cfg.mtN requests
// between two performance marks. From it come the main thread's task time
// per request (wall clock: what other work waits behind) and its tasks per
// request. Tracing runs only here, so it costs the other figures nothing.
func mainThread(ctx context.Context, r *results) error {
	if r.cfg.mtN <= 0 || r.cfg.mtReps <= 0 {
		return nil
	}
	for rep := 1; rep <= r.cfg.mtReps; rep++ {
		log.Printf("trace %d/%d: %d sequential GETs per candidate", rep, r.cfg.mtReps, r.cfg.mtN)
		res := map[string]seqRes{}
		events, err := traced(ctx, mainThreadCategories, func() error {
			// Starting to trace posts tasks of its own to the page's
			// thread; let them pass before the first candidate.
			if _, err := eval[seqRes](ctx, `bench.idle(300, "mt-settle")`, time.Minute); err != nil {
				return err
			}
			for _, name := range candidates {
				s, err := eval[seqRes](ctx, fmt.Sprintf(`bench.marked(%q, %d, "mt-%s")`, name, r.cfg.mtN, name), 2*time.Minute)
				if err != nil {
					s = seqRes{Fails: noAnswer(name, err, r.cfg.mtN)}
				}
				res[name] = s
			}
			return nil
		})
		if err != nil {
			log.Printf("warning: main-thread trace: %v", err)
			continue
		}
		for _, name := range candidates {
			s := res[name]
			run := mtRun{ok: s.OK, fails: s.Fails, wall: math.NaN(), tasks: math.NaN()}
			b, err := mainThreadBusy(events, "mt-"+name+":start", "mt-"+name+":end")
			if err != nil {
				log.Printf("warning: %s: %v", name, err)
			} else if s.OK > 0 {
				n := float64(r.cfg.mtN)
				run.wall, run.tasks = b.wallUS/n, float64(b.tasks)/n
			}
			r.mt[name] = append(r.mt[name], run)
		}
	}
	return nil
}
