package main

import (
	"bytes"
	"compress/gzip"

	"github.com/andybalholm/brotli"
)

// Sizes of one file as served.
type Sizes struct {
	Raw, Gzip, Brotli int
	gz, br            []byte
}

// Measure compresses b the way a build would for serving: gzip -9 and
// brotli quality 11 (what precompressed assets use).
func Measure(b []byte) (Sizes, error) {
	var gz, br bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return Sizes{}, err
	}
	if _, err := zw.Write(b); err != nil {
		return Sizes{}, err
	}
	if err := zw.Close(); err != nil {
		return Sizes{}, err
	}
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	if _, err := bw.Write(b); err != nil {
		return Sizes{}, err
	}
	if err := bw.Close(); err != nil {
		return Sizes{}, err
	}
	return Sizes{Raw: len(b), Gzip: gz.Len(), Brotli: br.Len(), gz: gz.Bytes(), br: br.Bytes()}, nil
}
