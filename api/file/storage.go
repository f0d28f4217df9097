package file

import (
	"context"
	"errors"
	"io"
	"time"
)

// Storage keeps the bytes of files under keys. Two backends implement it:
// the local disk (Local, make run's default) and any S3-compatible store
// (S3). Keys are the api's own ("f/<id>", "f/<id>.thumb", ...), never a
// client's.
type Storage interface {
	// Put stores body under key.
	Put(ctx context.Context, key string, body []byte, contentType string) error
	// Stat returns the size of key's object; ErrNoObject when there is none.
	Stat(ctx context.Context, key string) (int64, error)
	// Read returns up to n first bytes of key's object (all of it when n
	// is 0 or more than its size).
	Read(ctx context.Context, key string, n int64) ([]byte, error)
	// Open streams key's object and tells its size.
	Open(ctx context.Context, key string) (io.ReadCloser, int64, error)
	// Delete removes the objects of keys; a key without one is no error.
	Delete(ctx context.Context, keys ...string) error
	// PresignPut returns a URL a client PUTs key's bytes to, straight to
	// the store, valid for ttl; ErrNotDirect when the backend takes no
	// direct uploads (the api's PUT /files/:id/content takes them).
	PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (string, error)
	// PresignGet returns a URL that serves key's object as d says, valid
	// for ttl; ErrNotDirect when the api serves the bytes itself.
	PresignGet(ctx context.Context, key string, d Delivery, ttl time.Duration) (string, error)
}

// Delivery is how a download is answered: its content type and its
// Content-Disposition.
type Delivery struct {
	ContentType string
	Disposition string
}

// ErrNoObject is a key without an object.
var ErrNoObject = errors.New("file: no such object")

// ErrNotDirect is a backend that has no presigned URLs.
var ErrNotDirect = errors.New("file: the storage has no direct URLs")
