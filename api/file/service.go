package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/chatterly/chatterly/api/conversation"
	"github.com/chatterly/chatterly/api/fault"
	"github.com/chatterly/chatterly/api/message"
	"github.com/chatterly/chatterly/api/ratelimit"
	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
)

// Service is the files' domain.
type Service struct {
	env   *conversation.Env
	store Storage
	cfg   Config
	sig   signer
	rule  ratelimit.Rule
	log   *slog.Logger
}

// New returns a Service keeping bytes in store; urlKey signs download URLs
// (every api node must derive the same).
func New(env *conversation.Env, store Storage, cfg Config, urlKey []byte) *Service {
	return &Service{env: env, store: store, cfg: cfg, sig: signer{key: urlKey},
		rule: ratelimit.Rule{Name: "files", Max: cfg.PerMin, Window: time.Minute}, log: env.Log}
}

// Store is the service's storage.
func (s *Service) Store() Storage { return s.store }

var (
	errNoFile   = fault.New(fault.NotFound, "no such file")
	errNoBytes  = fault.New(fault.Conflict, "the file's bytes were not uploaded")
	errComplete = fault.New(fault.Conflict, "the file is complete; its bytes cannot change")
	errExpired  = fault.New(fault.Forbidden, "the link is not valid or has expired")
)

// CreateInput is a new upload as the client declares it.
type CreateInput struct {
	Name        string
	Size        int64
	ContentType string // the client's claim: only used to sign the upload
	Purpose     string
}

// Upload is a pending file and where its bytes go.
type Upload struct {
	File JSON `json:"file"`
	// URL is where to PUT the bytes: the store's presigned URL, or the
	// api's own path (relative to the api's base URL) for the local disk.
	URL       string            `json:"upload_url"`
	Method    string            `json:"upload_method"`
	Headers   map[string]string `json:"upload_headers"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// maxName is a file name's length, in characters.
const maxName = 255

// Create makes a pending file for caller.
func (s *Service) Create(ctx context.Context, caller id.ID, in CreateInput) (Upload, error) {
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > maxName || strings.ContainsAny(name, `/\`) || !printable(name) {
		return Upload{}, fault.Invalid("name", "name has 1 to 255 printable characters, without / or \\")
	}
	if in.Purpose == "" {
		in.Purpose = Attachment
	}
	if in.Purpose != Attachment && in.Purpose != Avatar {
		return Upload{}, fault.Invalid("purpose", "purpose is attachment or avatar")
	}
	if limit := s.limit(in.Purpose); in.Size < 1 || in.Size > limit {
		return Upload{}, &fault.Error{Code: fault.PayloadTooLarge, Field: "size",
			Message: fmt.Sprintf("size is 1 to %d bytes", limit)}
	}
	ct := in.ContentType
	if ct == "" || len(ct) > 200 || !printable(ct) {
		ct = "application/octet-stream"
	}
	if err := s.env.Limiter.Allow(ctx, s.rule, caller.String()); err != nil {
		return Upload{}, err
	}
	now := s.env.Now()
	f := File{ID: s.env.IDs.Next(), UploaderID: caller, Purpose: in.Purpose, Name: name, Size: in.Size,
		CreatedAt: now.UTC().Truncate(time.Microsecond)}
	if err := insert(ctx, s.env.DB, f); err != nil {
		return Upload{}, fault.Wrap(err, "create file")
	}
	up := Upload{File: Render(f), Method: "PUT", Headers: map[string]string{"Content-Type": ct},
		ExpiresAt: now.Add(s.cfg.UploadTTL).UTC().Truncate(time.Second)}
	u, err := s.store.PresignPut(ctx, key(f.ID, Original), ct, f.Size, s.cfg.UploadTTL)
	switch {
	case errors.Is(err, ErrNotDirect):
		up.URL = "/files/" + f.ID.String() + "/content"
	case err != nil:
		return Upload{}, fault.Wrap(err, "create file")
	default:
		up.URL = u
	}
	return up, nil
}

func (s *Service) limit(purpose string) int64 {
	if purpose == Avatar {
		return s.cfg.AvatarMaxBytes
	}
	return s.cfg.MaxBytes
}

func printable(v string) bool {
	for _, r := range v {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// own reads file fid for its uploader; anyone else is told it does not
// exist.
func (s *Service) own(ctx context.Context, caller, fid id.ID) (File, error) {
	f, err := load(ctx, s.env.DB, fid)
	if errors.Is(err, errNoRow) {
		return File{}, errNoFile
	}
	if err != nil {
		return File{}, fault.Wrap(err, "read file")
	}
	if f.UploaderID != caller || f.DeletedAt != nil {
		return File{}, errNoFile
	}
	return f, nil
}

// PutContent stores the bytes of caller's pending file fid (the local
// disk's upload; the route's body limit is FILE_MAX_BYTES).
func (s *Service) PutContent(ctx context.Context, caller, fid id.ID, body []byte) error {
	f, err := s.own(ctx, caller, fid)
	if err != nil {
		return err
	}
	if f.Complete() {
		return errComplete
	}
	if int64(len(body)) != f.Size {
		return fault.Invalid("size", fmt.Sprintf("the body has %d bytes; the file was declared with %d", len(body), f.Size))
	}
	if err := s.store.Put(ctx, key(f.ID, Original), body, "application/octet-stream"); err != nil {
		return fault.Wrap(err, "store file")
	}
	return nil
}

// Complete checks the uploaded bytes of caller's file fid and makes it
// complete; false when it was complete already (the same answer again).
// Bytes that fail the check are deleted; the file stays pending, so a
// corrected upload can follow.
func (s *Service) Complete(ctx context.Context, caller, fid id.ID) (JSON, bool, error) {
	f, err := s.own(ctx, caller, fid)
	if err != nil {
		return JSON{}, false, err
	}
	if f.Complete() {
		return Render(f), false, nil
	}
	orig := key(f.ID, Original)
	size, err := s.store.Stat(ctx, orig)
	if errors.Is(err, ErrNoObject) {
		return JSON{}, false, errNoBytes
	}
	if err != nil {
		return JSON{}, false, fault.Wrap(err, "check file")
	}
	if err := s.check(ctx, &f, size); err != nil {
		if derr := s.store.Delete(ctx, orig); derr != nil {
			s.log.WarnContext(ctx, "refused upload not deleted", "file_id", f.ID.String(), "err", derr)
		}
		return JSON{}, false, err
	}
	at := s.env.Now().UTC().Truncate(time.Microsecond)
	done, err := complete(ctx, s.env.DB, f, at)
	if err != nil {
		return JSON{}, false, fault.Wrap(err, "complete file")
	}
	if !done {
		// A concurrent complete won; answer what it recorded.
		f, err = s.own(ctx, caller, fid)
		return Render(f), false, err
	}
	f.CompletedAt = &at
	return Render(f), true, nil
}

// check verifies f's stored bytes (size bytes) and fills in their type,
// dimensions and variants.
func (s *Service) check(ctx context.Context, f *File, size int64) error {
	if size != f.Size {
		return fault.Invalid("size", fmt.Sprintf("the upload has %d bytes; the file was declared with %d", size, f.Size))
	}
	orig := key(f.ID, Original)
	head, err := s.store.Read(ctx, orig, 512)
	if err != nil {
		return fault.Wrap(err, "check file")
	}
	if f.ContentType, err = sniff(head); err != nil {
		return err
	}
	if !isImage(f.ContentType) {
		if f.Purpose == Avatar {
			return fault.New(fault.UnsupportedMediaType, "an avatar is a JPEG, PNG or GIF image")
		}
		return nil
	}
	all, err := s.store.Read(ctx, orig, 0)
	if err != nil {
		return fault.Wrap(err, "check file")
	}
	if f.Width, f.Height, err = imageSize(all); err != nil {
		return err
	}
	img, err := decode(all)
	if err != nil {
		return err
	}
	if f.Purpose == Avatar {
		for _, sz := range AvatarSizes {
			b, err := avatar(img, sz)
			if err != nil {
				return fault.Wrap(err, "resize avatar")
			}
			if err := s.store.Put(ctx, key(f.ID, avatarVariant(sz)), b, "image/png"); err != nil {
				return fault.Wrap(err, "store avatar")
			}
		}
		return nil
	}
	if f.Width <= ThumbSize && f.Height <= ThumbSize {
		return nil // small enough to be its own thumbnail
	}
	b, ct, err := thumbnail(img, f.ContentType, ThumbSize)
	if err != nil {
		return fault.Wrap(err, "make thumbnail")
	}
	if err := s.store.Put(ctx, key(f.ID, Thumb), b, ct); err != nil {
		return fault.Wrap(err, "store thumbnail")
	}
	f.Thumbnail = true
	return nil
}

// Attachable implements message.Files.
func (s *Service) Attachable(ctx context.Context, caller id.ID, ids []id.ID) ([]message.Attachment, error) {
	seen := make(map[id.ID]bool, len(ids))
	for _, f := range ids {
		if seen[f] {
			return nil, fault.Invalid("attachment_ids", "a file is listed twice")
		}
		seen[f] = true
	}
	fs, err := loadMany(ctx, s.env.DB, ids)
	if err != nil {
		return nil, fault.Wrap(err, "read attachments")
	}
	by := make(map[id.ID]File, len(fs))
	for _, f := range fs {
		by[f.ID] = f
	}
	out := make([]message.Attachment, len(ids))
	for i, fid := range ids {
		f, ok := by[fid]
		switch {
		case !ok || f.UploaderID != caller || f.DeletedAt != nil || f.Purpose != Attachment:
			return nil, fault.Invalid("attachment_ids", "no such file of yours: "+fid.String())
		case !f.Complete():
			return nil, fault.Invalid("attachment_ids", "the file is not complete: "+fid.String())
		case f.MessageID != 0:
			return nil, fault.Invalid("attachment_ids", "the file is attached to another message already: "+fid.String())
		}
		out[i] = AttachmentOf(f)
	}
	return out, nil
}

// Detach implements message.Files.
func (s *Service) Detach(ctx context.Context, tx pgx.Tx, m id.ID) (func(), error) {
	fs, err := detach(ctx, tx, m, s.env.Now())
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	var ks []string
	for _, f := range fs {
		ks = append(ks, keys(f)...)
	}
	return func() { go s.purge(context.WithoutCancel(ctx), m, ks) }, nil
}

// purge removes the bytes of a deleted message's files. It is best
// effort: the rows say the files are deleted, so nothing serves them
// whatever happens here.
func (s *Service) purge(ctx context.Context, m id.ID, ks []string) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := s.store.Delete(ctx, ks...); err != nil {
		s.log.WarnContext(ctx, "bytes of a deleted message's files not removed", "message_id", m.String(), "err", err)
	}
}

// SignedURL is a download URL and when it stops working.
type SignedURL struct {
	// URL is a path of the api (relative to its base URL).
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// URL signs a download URL of variant v of file fid for caller, who must
// see the file (see authorize).
func (s *Service) URL(ctx context.Context, caller, fid id.ID, v string) (SignedURL, error) {
	f, err := s.authorize(ctx, caller, fid)
	if err != nil {
		return SignedURL{}, err
	}
	if err := hasVariant(f, v); err != nil {
		return SignedURL{}, err
	}
	exp := s.env.Now().Add(s.cfg.URLTTL).Unix()
	u := "/files/" + f.ID.String() + "/blob?variant=" + v + "&user=" + caller.String() +
		"&exp=" + strconv.FormatInt(exp, 10) + "&sig=" + s.sig.sign(f.ID, v, caller, exp)
	return SignedURL{URL: u, ExpiresAt: time.Unix(exp, 0).UTC()}, nil
}

func hasVariant(f File, v string) error {
	switch {
	case v == Original:
	case v == Thumb && f.Thumbnail:
	default:
		return fault.Invalid("variant", "variant is original, or thumbnail for an image that has one")
	}
	return nil
}

// authorize reads file fid for caller: an attachment's conversation's
// members see it, its uploader sees it before it is attached; for anyone
// else, and once its message is deleted, it does not exist.
func (s *Service) authorize(ctx context.Context, caller, fid id.ID) (File, error) {
	f, err := load(ctx, s.env.DB, fid)
	if errors.Is(err, errNoRow) {
		return File{}, errNoFile
	}
	if err != nil {
		return File{}, fault.Wrap(err, "read file")
	}
	if f.DeletedAt != nil || !f.Complete() || f.Purpose != Attachment {
		return File{}, errNoFile
	}
	if f.MessageID == 0 {
		if f.UploaderID != caller {
			return File{}, errNoFile
		}
		return f, nil
	}
	a, err := s.env.Participant(ctx, f.ConversationID, caller)
	if err != nil {
		if _, ok := fault.As(err); ok {
			return File{}, errNoFile
		}
		return File{}, fault.Wrap(err, "read file")
	}
	if !a.IsMember() {
		return File{}, errNoFile
	}
	return f, nil
}

// Download is how to answer a download: a redirect to URL, or the bytes.
type Download struct {
	RedirectURL string
	Body        io.ReadCloser
	Size        int64
	Delivery    Delivery
}

// Blob serves a signed URL: it checks the signature and expiry, then that
// the person it was made for still sees the file now.
func (s *Service) Blob(ctx context.Context, fid id.ID, v, user, exp, sig string) (Download, error) {
	uid, err := id.Parse(user)
	if err != nil {
		return Download{}, errExpired
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !s.sig.valid(fid, v, uid, e, sig, s.env.Now()) {
		return Download{}, errExpired
	}
	f, err := s.authorize(ctx, uid, fid)
	if err != nil {
		return Download{}, err
	}
	if err := hasVariant(f, v); err != nil {
		return Download{}, err
	}
	ct := f.ContentType
	if v == Thumb && ct != "image/jpeg" {
		ct = "image/png"
	}
	return s.deliver(ctx, key(f.ID, v), Delivery{ContentType: ct, Disposition: disposition(f.ContentType, f.Name, true)})
}

// Avatar serves size of avatar fid to anyone.
func (s *Service) Avatar(ctx context.Context, fid id.ID, size int) (Download, error) {
	ok := false
	for _, sz := range AvatarSizes {
		ok = ok || sz == size
	}
	if !ok {
		return Download{}, fault.Invalid("size", "size is 64 or 256")
	}
	f, err := load(ctx, s.env.DB, fid)
	if errors.Is(err, errNoRow) || (err == nil && (f.Purpose != Avatar || !f.Complete() || f.DeletedAt != nil)) {
		return Download{}, errNoFile
	}
	if err != nil {
		return Download{}, fault.Wrap(err, "read avatar")
	}
	return s.deliver(ctx, key(f.ID, avatarVariant(size)), Delivery{ContentType: "image/png", Disposition: "inline"})
}

func (s *Service) deliver(ctx context.Context, k string, d Delivery) (Download, error) {
	u, err := s.store.PresignGet(ctx, k, d, s.cfg.StoreURLTTL)
	if err == nil {
		return Download{RedirectURL: u, Delivery: d}, nil
	}
	if !errors.Is(err, ErrNotDirect) {
		return Download{}, fault.Wrap(err, "sign download")
	}
	body, size, err := s.store.Open(ctx, k)
	if errors.Is(err, ErrNoObject) {
		return Download{}, errNoFile
	}
	if err != nil {
		return Download{}, fault.Wrap(err, "read file")
	}
	return Download{Body: body, Size: size, Delivery: d}, nil
}

// AvatarOf checks that fid is caller's complete avatar file, for PATCH /me.
func (s *Service) AvatarOf(ctx context.Context, caller, fid id.ID) error {
	f, err := s.own(ctx, caller, fid)
	if err != nil {
		return fault.Invalid("avatar_id", "no such avatar file of yours")
	}
	if f.Purpose != Avatar || !f.Complete() {
		return fault.Invalid("avatar_id", "the file is not a complete avatar upload")
	}
	return nil
}
