package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Config is an S3-compatible store: its endpoint (S3_ENDPOINT, empty for
// AWS itself), region, bucket and static credentials. Nothing is read
// from ~/.aws or the instance's metadata: what the api uses is what its
// configuration says.
type S3Config struct {
	Endpoint  string
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket in the path (http://host/bucket/key),
	// which self-hosted stores need; AWS takes both.
	PathStyle bool
}

// S3 keeps files in one bucket of an S3-compatible store. Clients upload
// straight to it by presigned PUT and download by presigned GET, so the
// bytes of attachments never pass through the api; the api itself reads
// only an object's head (to check its type) and images (to make their
// variants).
type S3 struct {
	client  *s3.Client
	presign *s3.PresignClient
	bucket  string
}

// NewS3 returns the storage of cfg. It does not connect.
func NewS3(cfg S3Config, hc *http.Client) *S3 {
	opts := s3.Options{
		Region:       cfg.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
		UsePathStyle: cfg.PathStyle,
		HTTPClient:   hc,
		// Checksums only where the API requires them: a presigned PUT then
		// carries no checksum header the browser would have to send, and
		// stores without the newer checksum headers keep working.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	c := s3.New(opts)
	return &S3{client: c, presign: s3.NewPresignClient(c), bucket: cfg.Bucket}
}

// Client is the SDK client (tests create their bucket with it).
func (s *S3) Client() *s3.Client { return s.client }

// Put implements Storage.
func (s *S3) Put(ctx context.Context, key string, body []byte, contentType string) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), ContentType: aws.String(contentType)})
	if err != nil {
		return fmt.Errorf("file: s3 put %s: %w", key, err)
	}
	return nil
}

// Stat implements Storage.
func (s *S3) Stat(ctx context.Context, key string) (int64, error) {
	h, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return 0, s3Error(err, "stat", key)
	}
	return aws.ToInt64(h.ContentLength), nil
}

// Read implements Storage: n > 0 reads a byte range.
func (s *S3) Read(ctx context.Context, key string, n int64) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	if n > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=0-%d", n-1))
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return nil, s3Error(err, "read", key)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("file: s3 read %s: %w", key, err)
	}
	return b, nil
}

// Open implements Storage.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, 0, s3Error(err, "open", key)
	}
	return out.Body, aws.ToInt64(out.ContentLength), nil
}

// Delete implements Storage (one request per key: a few per message).
func (s *S3) Delete(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: aws.String(k)}); err != nil {
			if err := s3Error(err, "delete", k); !errors.Is(err, ErrNoObject) {
				return err
			}
		}
	}
	return nil
}

// PresignPut implements Storage.
func (s *S3) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (string, error) {
	r, err := s.presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key,
		ContentType: aws.String(contentType)}, s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("file: presign put %s: %w", key, err)
	}
	return r.URL, nil
}

// PresignGet implements Storage.
func (s *S3) PresignGet(ctx context.Context, key string, d Delivery, ttl time.Duration) (string, error) {
	r, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key,
		ResponseContentType: aws.String(d.ContentType), ResponseContentDisposition: aws.String(d.Disposition)},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("file: presign get %s: %w", key, err)
	}
	return r.URL, nil
}

// s3Error is ErrNoObject for a missing key, err wrapped otherwise.
func s3Error(err error, op, key string) error {
	var nk *types.NoSuchKey
	var nf *types.NotFound
	var ae smithy.APIError
	if errors.As(err, &nk) || errors.As(err, &nf) || (errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey")) {
		return ErrNoObject
	}
	return fmt.Errorf("file: s3 %s %s: %w", op, key, err)
}
