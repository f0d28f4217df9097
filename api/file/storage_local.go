package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Local keeps files on the local disk, under one folder: a key is a path
// below it. Writes go to a temporary file renamed into place, so a reader
// never sees half an object.
type Local struct{ dir string }

// NewLocal returns the storage of folder dir. Nothing is made on disk
// until the first upload (then dir too, when missing): a process that never
// stores a file, on a read-only root file system or in a test's folder,
// leaves no trace.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, fmt.Errorf("file: local storage: no folder")
	}
	return &Local{dir: dir}, nil
}

func (l *Local) path(key string) (string, error) {
	if key == "" || strings.Contains(key, "..") || strings.HasPrefix(key, "/") {
		return "", fmt.Errorf("file: bad key %q", key)
	}
	return filepath.Join(l.dir, filepath.FromSlash(key)), nil
}

// Put implements Storage.
func (l *Local) Put(_ context.Context, key string, body []byte, _ string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("file: put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return fmt.Errorf("file: put %s: %w", key, err)
	}
	_, err = tmp.Write(body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("file: put %s: %w", key, err)
	}
	return nil
}

// Stat implements Storage.
func (l *Local) Stat(_ context.Context, key string) (int64, error) {
	p, err := l.path(key)
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, ErrNoObject
	}
	if err != nil {
		return 0, fmt.Errorf("file: stat %s: %w", key, err)
	}
	return st.Size(), nil
}

// Read implements Storage.
func (l *Local) Read(ctx context.Context, key string, n int64) ([]byte, error) {
	rc, size, err := l.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if n <= 0 || n > size {
		n = size
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, fmt.Errorf("file: read %s: %w", key, err)
	}
	return b, nil
}

// Open implements Storage.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, int64, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, ErrNoObject
	}
	if err != nil {
		return nil, 0, fmt.Errorf("file: open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("file: open %s: %w", key, err)
	}
	return f, st.Size(), nil
}

// Delete implements Storage.
func (l *Local) Delete(_ context.Context, keys ...string) error {
	for _, k := range keys {
		p, err := l.path(k)
		if err != nil {
			return err
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("file: delete %s: %w", k, err)
		}
	}
	return nil
}

// PresignPut implements Storage: the api takes local uploads itself.
func (l *Local) PresignPut(context.Context, string, string, int64, time.Duration) (string, error) {
	return "", ErrNotDirect
}

// PresignGet implements Storage: the api serves local files itself.
func (l *Local) PresignGet(context.Context, string, Delivery, time.Duration) (string, error) {
	return "", ErrNotDirect
}
