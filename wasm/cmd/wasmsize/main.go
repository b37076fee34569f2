// Command wasmsize reports what a browser downloads for a file: its raw,
// gzip and brotli sizes. With -write it also leaves the compressed copies
// next to the file (name.gz, name.br) for servers that send precompressed
// files, and with -max it fails when the brotli size exceeds a budget.
//
//	go run ./wasm/cmd/wasmsize -write -max 700000 jsglue/jwtfetch.wasm
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wasmsize:", err)
		os.Exit(1)
	}
}

func run(_ context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("wasmsize", flag.ContinueOnError)
	write := fs.Bool("write", false, "write name.gz and name.br next to each file")
	max := fs.Int("max", 0, "fail when the total brotli size exceeds this many bytes (0: no limit)")
	pkgs := fs.Bool("pkgs", false, "list the code bytes of each Go package (needs a build without -ldflags=-s)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: wasmsize [-write] [-max bytes] file...")
	}
	total := 0
	for _, name := range fs.Args() {
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		s, err := Measure(b)
		if err != nil {
			return err
		}
		total += s.Brotli
		fmt.Fprintf(stdout, "%-28s raw %8d  gzip %8d  brotli %8d\n", name, s.Raw, len(s.gz), s.Brotli)
		if *pkgs {
			code, data, err := CodeByPackage(b)
			if err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
			for _, p := range sortedBySize(code) {
				fmt.Fprintf(stdout, "  %8d  %s\n", code[p], p)
			}
			fmt.Fprintf(stdout, "  %8d  (data section)\n", data)
		}
		if *write {
			if err := os.WriteFile(name+".gz", s.gz, 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(name+".br", s.br, 0o644); err != nil {
				return err
			}
		}
	}
	if *max > 0 {
		fmt.Fprintf(stdout, "brotli total %d bytes, budget %d bytes\n", total, *max)
		if total > *max {
			return fmt.Errorf("brotli size %d bytes is over the budget of %d bytes", total, *max)
		}
	}
	return nil
}
