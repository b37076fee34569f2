package authserver

import (
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
)

// staticDir serves the files under dir at URL prefix. It never lists
// directories, serves a directory's index.html, refuses names with a
// component starting with ".", cannot be led out of dir (not even by
// symbolic links, thanks to os.Root) and prefers precompressed X.br / X.gz
// siblings when the client accepts them.
type staticDir struct {
	prefix string // "/" or "/name/"
	dir    string
}

func (d staticDir) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	upath := r.URL.Path
	if !strings.HasPrefix(upath, d.prefix) {
		http.NotFound(w, r)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(upath, d.prefix)), "/")
	if name == "" {
		name = "."
	}
	if !fs.ValidPath(name) || hidden(name) {
		http.NotFound(w, r)
		return
	}
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer root.Close()

	info, err := root.Stat(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if info.IsDir() {
		if !strings.HasSuffix(upath, "/") {
			target := path.Base(upath) + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			http.Redirect(w, r, target, http.StatusMovedPermanently)
			return
		}
		name = path.Join(name, "index.html")
		if info, err = root.Stat(name); err != nil {
			http.NotFound(w, r)
			return
		}
	}
	if !info.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}

	h := w.Header()
	serve, encoding := name, ""
	hasBr, hasGz := isRegular(root, name+".br"), isRegular(root, name+".gz")
	if hasBr || hasGz {
		h.Add("Vary", "Accept-Encoding")
	}
	ae := r.Header.Values("Accept-Encoding")
	switch {
	case hasBr && accepts(ae, "br"):
		serve, encoding = name+".br", "br"
	case hasGz && accepts(ae, "gzip"):
		serve, encoding = name+".gz", "gzip"
	}
	f, err := root.Open(serve)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}

	h.Set("Cache-Control", "no-cache")
	if ct := contentType(name); ct != "" {
		h.Set("Content-Type", ct)
	} else if encoding != "" {
		h.Set("Content-Type", "application/octet-stream") // do not sniff compressed bytes
	}
	if encoding != "" {
		h.Set("Content-Encoding", encoding)
	}
	http.ServeContent(w, r, name, fi.ModTime(), f)
}

// hidden reports whether a slash-separated path has a component starting
// with ".".
func hidden(name string) bool {
	for part := range strings.SplitSeq(name, "/") {
		if part != "." && strings.HasPrefix(part, ".") {
			return true
		}
	}
	return false
}

func isRegular(root *os.Root, name string) bool {
	fi, err := root.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

// accepts reports whether Accept-Encoding header values allow coding (with
// a q-value above zero).
func accepts(values []string, coding string) bool {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			name, params, _ := strings.Cut(item, ";")
			if !strings.EqualFold(strings.TrimSpace(name), coding) {
				continue
			}
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			return q > 0
		}
	}
	return false
}

// contentType picks the Content-Type for a file name; "" lets
// http.ServeContent sniff it.
func contentType(name string) string {
	switch ext := strings.ToLower(path.Ext(name)); ext {
	case ".wasm":
		return "application/wasm"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".txt":
		return "text/plain; charset=utf-8"
	default:
		return mime.TypeByExtension(ext)
	}
}
