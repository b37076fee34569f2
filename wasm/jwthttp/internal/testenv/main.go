//go:build !js

// Command testenv runs a command with jwthttp's test servers (package
// testserver) running, and passes their URLs to it in the environment:
// JWTHTTP_TEST_API, JWTHTTP_TEST_SHORT and JWTHTTP_TEST_OTHER. `make
// test-wasm` runs the wasm tests through it,
//
//	GOOS=js GOARCH=wasm go test -exec="testenv wasmbrowsertest" ./wasm/...
//
// because a test compiled to wasm cannot listen, while wasmbrowsertest
// hands its environment to the program in the browser. The servers live in
// this process, so they stop with it whatever happens to the tests; its
// exit status is the command's.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/jwtfetch/jwtfetch/wasm/jwthttp/internal/testserver"
)

func main() {
	// SIGQUIT is how go test stops a test binary that ran out of time.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT)
	code, err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// run runs args with the servers up and returns the command's exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 {
		return 2, errors.New("usage: testenv command [args...]")
	}
	s := testserver.Start()
	defer s.Close()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(),
		"JWTHTTP_TEST_API="+s.API.URL,
		"JWTHTTP_TEST_SHORT="+s.Short.URL,
		"JWTHTTP_TEST_OTHER="+s.Other.URL,
	)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	// On a signal, the command gets it first, so that it can stop its
	// browser; it is killed only if it does not end.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() > 0 {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}
