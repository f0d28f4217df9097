package file

import (
	"strconv"
	"time"

	"github.com/chatterly/chatterly/shared/config"
)

// Config is the files' configuration.
type Config struct {
	// Storage is "local" (Dir) or "s3" (S3) (FILE_STORAGE).
	Storage string
	// Dir is the local storage's folder (FILE_DIR).
	Dir string
	// S3 is the store of FILE_STORAGE=s3 (S3_ENDPOINT, S3_REGION,
	// S3_BUCKET, S3_ACCESS_KEY, S3_SECRET_KEY, S3_PATH_STYLE).
	S3 S3Config
	// MaxBytes caps an attachment (FILE_MAX_BYTES), AvatarMaxBytes an
	// avatar's original (FILE_AVATAR_MAX_BYTES).
	MaxBytes       int64
	AvatarMaxBytes int64
	// URLTTL is how long a signed download URL of the api stays valid
	// (FILE_URL_TTL); StoreURLTTL how long the store's presigned GET the
	// api redirects to does (FILE_STORE_URL_TTL): the window in which a
	// deleted message's file can still be fetched. UploadTTL bounds a
	// presigned upload (FILE_UPLOAD_TTL).
	URLTTL      time.Duration
	StoreURLTTL time.Duration
	UploadTTL   time.Duration
	// PerMin limits each person's new uploads per minute (RATE_FILES).
	PerMin int
}

// LoadConfig reads the files' configuration from e.
func LoadConfig(e *config.Env) Config {
	c := Config{
		Storage: e.String("FILE_STORAGE", "local"),
		Dir:     e.String("FILE_DIR", "data/files"),
		S3: S3Config{
			Endpoint:  e.String("S3_ENDPOINT", ""),
			Region:    e.String("S3_REGION", "us-east-1"),
			Bucket:    e.String("S3_BUCKET", ""),
			AccessKey: e.String("S3_ACCESS_KEY", ""),
			SecretKey: e.Secret("S3_SECRET_KEY", ""),
			PathStyle: e.Bool("S3_PATH_STYLE", true),
		},
		MaxBytes:       int64(e.Int("FILE_MAX_BYTES", 25<<20, 1<<10, 1<<30)),
		AvatarMaxBytes: int64(e.Int("FILE_AVATAR_MAX_BYTES", 5<<20, 1<<10, 64<<20)),
		URLTTL:         e.Duration("FILE_URL_TTL", 10*time.Minute, 10*time.Second, 24*time.Hour),
		StoreURLTTL:    e.Duration("FILE_STORE_URL_TTL", 30*time.Second, time.Second, time.Hour),
		UploadTTL:      e.Duration("FILE_UPLOAD_TTL", 15*time.Minute, time.Minute, 24*time.Hour),
		PerMin:         e.Int("RATE_FILES", 60, 1, 10_000_000),
	}
	e.Check(c.Storage == "local" || c.Storage == "s3", "FILE_STORAGE", c.Storage, "want local or s3")
	if c.Storage == "s3" {
		e.Check(c.S3.Bucket != "", "S3_BUCKET", "", "required with FILE_STORAGE=s3")
		e.Check(c.S3.AccessKey != "" && c.S3.SecretKey != "", "S3_ACCESS_KEY", "", "S3_ACCESS_KEY and S3_SECRET_KEY are required with FILE_STORAGE=s3")
	}
	return c
}

func itoa(n int) string { return strconv.Itoa(n) }
