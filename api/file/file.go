// Package file is files in messages and avatars: uploaded, checked, then
// attached to one message (or made someone's avatar), and served only to
// whoever may see them.
//
// The flow: POST /files makes a pending file and answers where to PUT its
// bytes: straight to the store by a presigned URL (S3), or to the api's own
// PUT /files/:id/content (the local disk), which takes bodies up to
// FILE_MAX_BYTES past the api's 1 MiB cap (that route only). POST
// /files/:id/complete then checks the bytes: their size is the one
// declared, their type (sniffed from the first bytes, never the client's
// claim) is allowed, and an image's dimensions are read from its header
// before it is decoded (no decompression bomb); images get a thumbnail,
// avatars their fixed sizes. A complete file is attached by its uploader
// to one message (attachment_ids on the send), once.
//
// Downloads: GET /files/:id/url gives a member of the file's conversation
// (its uploader, before it is attached) a signed URL of the api valid for
// FILE_URL_TTL. That URL checks again, at each request, that the signer
// may still see the file and that its message is not deleted, then serves
// the bytes (local disk) or redirects to a presigned GET of the store valid
// FILE_STORE_URL_TTL (S3): a deleted message's files stop being served at
// its deletion's commit, apart from presigned GETs handed out in the last
// FILE_STORE_URL_TTL (30 s by default). The deletion also removes the
// bytes, after its commit (best effort; failures are logged).
//
// Avatars are public to any client (GET /avatars/:id?size=), as the user
// resources that name them are to any signed-in user; their ids change
// with each new avatar, so their answers are cached for long.
package file

import (
	"time"

	"github.com/chatterly/chatterly/api/message"
	"github.com/chatterly/chatterly/shared/id"
)

// Purposes of a file.
const (
	Attachment = "attachment"
	Avatar     = "avatar"
)

// File is a row of files.
type File struct {
	ID             id.ID
	UploaderID     id.ID
	Purpose        string
	Name           string
	Size           int64
	ContentType    string // sniffed; "" until complete
	Width, Height  int
	Thumbnail      bool
	CreatedAt      time.Time
	CompletedAt    *time.Time
	ConversationID id.ID // 0 until attached
	MessageID      id.ID // 0 until attached
	DeletedAt      *time.Time
}

// Complete reports whether f's bytes were checked.
func (f *File) Complete() bool { return f.CompletedAt != nil }

// JSON is the file resource, as its uploader sees it.
type JSON struct {
	ID          id.ID     `json:"id"`
	Purpose     string    `json:"purpose"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	State       string    `json:"state"` // pending or complete
	ContentType *string   `json:"content_type"`
	Width       int       `json:"width,omitempty"`
	Height      int       `json:"height,omitempty"`
	Thumbnail   bool      `json:"thumbnail"`
	MessageID   *id.ID    `json:"message_id"`
	CreatedAt   time.Time `json:"created_at"`
}

// Render is f's resource.
func Render(f File) JSON {
	j := JSON{ID: f.ID, Purpose: f.Purpose, Name: f.Name, Size: f.Size, State: "pending", Width: f.Width,
		Height: f.Height, Thumbnail: f.Thumbnail, CreatedAt: f.CreatedAt.UTC().Truncate(time.Millisecond)}
	if f.Complete() {
		j.State = "complete"
		ct := f.ContentType
		j.ContentType = &ct
	}
	if f.MessageID != 0 {
		m := f.MessageID
		j.MessageID = &m
	}
	return j
}

// AttachmentOf is f as a message carries it.
func AttachmentOf(f File) message.Attachment {
	return message.Attachment{ID: f.ID, Name: f.Name, Size: f.Size, ContentType: f.ContentType,
		Width: f.Width, Height: f.Height, Thumbnail: f.Thumbnail}
}

// Variants of a file's bytes: the original, an image's thumbnail, an
// avatar's sizes ("64", "256").
const (
	Original  = "original"
	Thumb     = "thumbnail"
	avatarPfx = "s"
)

// key is where variant v of file f is stored: f/<id>/<variant> (a
// folder per file on the local disk and on stores backed by file systems).
func key(f id.ID, v string) string { return "f/" + f.String() + "/" + v }

// keys are every stored variant of f.
func keys(f File) []string {
	out := []string{key(f.ID, Original)}
	if f.Thumbnail {
		out = append(out, key(f.ID, Thumb))
	}
	if f.Purpose == Avatar {
		for _, s := range AvatarSizes {
			out = append(out, key(f.ID, avatarVariant(s)))
		}
	}
	return out
}

func avatarVariant(size int) string { return avatarPfx + itoa(size) }
