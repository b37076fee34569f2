// Command server runs the jwtfetch demo: the auth API of package authserver
// plus the example site's static files.
//
//	go run ./example-site/server -debug
//
// Flags:
//
//	-addr        listen address (default 127.0.0.1:8080)
//	-access-ttl  access token lifetime (default 20s)
//	-debug       enable the /debug/* endpoints
//	-root        repository root; <root>/jsglue is served at /jsglue/ and
//	             <root>/example-site/web at / (default ".")
//	-origins     comma-separated extra CORS origins, besides
//	             http://localhost:* and http://127.0.0.1:*
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jwtfetch/jwtfetch/example-site/authserver"
)

const shutdownTimeout = 5 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run serves the demo until ctx is done, then shuts down gracefully.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen `address`")
	accessTTL := fs.Duration("access-ttl", authserver.DefaultAccessTTL, "access token lifetime")
	debug := fs.Bool("debug", false, "enable the /debug/* endpoints")
	root := fs.String("root", ".", "repository root `dir`: serves <root>/jsglue at /jsglue/ and <root>/example-site/web at /")
	origins := fs.String("origins", "", "comma-separated extra allowed CORS `origins`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *accessTTL <= 0 {
		return errors.New("-access-ttl must be positive")
	}
	extra, err := parseOrigins(*origins)
	if err != nil {
		return err
	}

	handler := authserver.New(authserver.Config{
		AccessTTL: *accessTTL,
		Debug:     *debug,
		JSGlueDir: filepath.Join(*root, "jsglue"),
		WebDir:    filepath.Join(*root, "example-site", "web"),
		AllowOrigins: func(origin string) bool {
			return extra[strings.ToLower(origin)] || authserver.DefaultAllowOrigins(origin)
		},
	})

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(stderr, "jwtfetch demo: http://%s/  (user demo / password demo123)\n", displayAddr(ln.Addr()))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintln(stderr, "jwtfetch demo: requests still running after", shutdownTimeout, "- closing them")
		_ = srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// parseOrigins reads a comma-separated list of origins such as
// "http://example.test:8080".
func parseOrigins(list string) (map[string]bool, error) {
	set := map[string]bool{}
	for o := range strings.SplitSeq(list, ",") {
		o = strings.TrimSuffix(strings.TrimSpace(o), "/")
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("-origins: %q is not an origin like http://host:port", o)
		}
		set[strings.ToLower(o)] = true
	}
	return set, nil
}

// displayAddr renders a listen address for a URL, naming unspecified
// addresses ("0.0.0.0", "::") localhost.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
