//go:build !js

package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestRunPassesTheServersAndStopsThem(t *testing.T) {
	var out bytes.Buffer
	code, err := run(context.Background(),
		[]string{"sh", "-c", `echo "$JWTHTTP_TEST_API $JWTHTTP_TEST_SHORT $JWTHTTP_TEST_OTHER"; exit 3`},
		nil, &out, &out)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if code != 3 {
		t.Errorf("exit code = %d; want the command's, 3 (output %q)", code, out.String())
	}
	urls := strings.Fields(out.String())
	if len(urls) != 3 {
		t.Fatalf("the command saw %q; want three URLs", out.String())
	}
	for _, u := range urls {
		if !strings.HasPrefix(u, "http://127.0.0.1:") {
			t.Errorf("URL %q is not a loopback server", u)
		}
		if resp, err := http.Get(u + "/public/text"); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after the command ended", u)
		}
	}
}

func TestRunWithoutACommand(t *testing.T) {
	if code, err := run(context.Background(), nil, nil, nil, nil); err == nil || code != 2 {
		t.Errorf("run() = %d, %v; want 2 and a usage error", code, err)
	}
}
