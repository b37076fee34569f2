//go:build !js

package jwthttp

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileStore(t *testing.T) {
	dir := t.TempDir()
	f := FileStore{Path: filepath.Join(dir, "session.json")}
	v, err := f.Load()
	require.NoError(t, err)
	assert.Empty(t, v, "no file: no session")
	require.NoError(t, f.Clear(), "clearing nothing is fine")

	require.NoError(t, f.Save(`{"v":1}`))
	require.NoError(t, f.Save(`{"v":1,"x":2}`))
	v, err = f.Load()
	require.NoError(t, err)
	assert.Equal(t, `{"v":1,"x":2}`, v)
	info, err := os.Stat(f.Path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")

	require.NoError(t, f.Clear())
	_, err = os.Stat(f.Path)
	assert.True(t, os.IsNotExist(err))

	bad := FileStore{Path: filepath.Join(dir, "missing-dir", "session.json")}
	assert.Error(t, bad.Save("x"))
}
