package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sort"
	"strings"
)

// CodeByPackage reads a wasm module built without -s (its "name" section
// names the functions) and returns the code bytes of each Go package, and
// the size of the data section, which holds type data, strings and tables.
// It answers "what does each import cost" where go tool nm cannot read
// wasm files.
func CodeByPackage(b []byte) (code map[string]int, data int, err error) {
	funcs, data, err := CodeByFunc(b)
	if err != nil {
		return nil, 0, err
	}
	code = map[string]int{}
	for name, sz := range funcs {
		code[pkgOf(name)] += sz
	}
	return code, data, nil
}

// CodeByFunc returns the code bytes of each function, by name.
func CodeByFunc(b []byte) (funcs map[string]int, data int, err error) {
	if len(b) < 8 || !bytes.Equal(b[:4], []byte("\x00asm")) {
		return nil, 0, errors.New("not a wasm module")
	}
	r := &reader{b: b[8:]}
	var imported int
	var bodies []int
	names := map[int]string{}
	for !r.done() {
		id := r.byte()
		size := int(r.uleb())
		sec := &reader{b: r.take(size)}
		switch id {
		case 2: // imports
			for n := int(sec.uleb()); n > 0; n-- {
				sec.name()
				sec.name()
				switch kind := sec.byte(); kind {
				case 0:
					imported++
					sec.uleb()
				case 1: // table
					sec.byte()
					sec.limits()
				case 2: // memory
					sec.limits()
				case 3: // global
					sec.byte()
					sec.byte()
				}
			}
		case 10: // code
			for n := int(sec.uleb()); n > 0; n-- {
				sz := int(sec.uleb())
				sec.take(sz)
				bodies = append(bodies, sz)
			}
		case 11:
			data = size
		case 0:
			if sec.name() != "name" {
				continue
			}
			for !sec.done() {
				sub := sec.byte()
				sz := int(sec.uleb())
				part := &reader{b: sec.take(sz)}
				if sub != 1 {
					continue
				}
				for n := int(part.uleb()); n > 0; n-- {
					idx := int(part.uleb())
					names[idx] = part.name()
				}
			}
		}
		if r.err != nil || sec.err != nil {
			return nil, 0, errors.New("malformed wasm module")
		}
	}
	if len(names) == 0 {
		return nil, 0, errors.New("no name section: build without -ldflags=-s")
	}
	funcs = map[string]int{}
	for i, sz := range bodies {
		funcs[names[imported+i]] += sz
	}
	return funcs, data, nil
}

// pkgOf returns the package path of a Go symbol name such as
// "strconv.ParseFloat" or "github.com/x/y.(*T).M".
func pkgOf(sym string) string {
	if sym == "" {
		return "?"
	}
	slash := strings.LastIndex(sym, "/")
	dot := strings.Index(sym[slash+1:], ".")
	if dot < 0 {
		return sym
	}
	return sym[:slash+1+dot]
}

// sortedBySize lists the map's keys, largest value first.
func sortedBySize(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] })
	return keys
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) done() bool { return r.err != nil || len(r.b) == 0 }

func (r *reader) take(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.err = errors.New("short")
		r.b = nil
		return nil
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) byte() byte {
	p := r.take(1)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *reader) uleb() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("bad varint")
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) name() string { return string(r.take(int(r.uleb()))) }

func (r *reader) limits() {
	if r.byte()&1 == 1 {
		r.uleb()
	}
	r.uleb()
}
