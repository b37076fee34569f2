package jwthttp

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// FileStore is a Store in a file, for a command-line program that keeps
// its session between runs. The file holds the tokens: it is written with
// mode 0600 and replaced whole, through a temporary file in the same
// directory, so a reader never sees half a session. Two processes that use
// one file at the same time do not coordinate their refreshes.
type FileStore struct {
	// Path is the file's name, for example in os.UserConfigDir().
	Path string
}

// Load implements Store: "" when the file does not exist.
func (f FileStore) Load() (string, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return string(b), err
}

// Save implements Store.
func (f FileStore) Save(value string) error {
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), "."+filepath.Base(f.Path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is none
	if _, err := tmp.WriteString(value); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), f.Path)
}

// Clear implements Store: it removes the file.
func (f FileStore) Clear() error {
	err := os.Remove(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
