package file

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chatterly/chatterly/shared/id"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Every SQL statement of files is in this file.

type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const columns = `id, uploader_id, purpose, name, size, coalesce(content_type, ''), coalesce(width, 0), coalesce(height, 0),
  thumbnail, created_at, completed_at, coalesce(conversation_id, 0), coalesce(message_id, 0), deleted_at`

func scan(row pgx.Row) (File, error) {
	var f File
	err := row.Scan(&f.ID, &f.UploaderID, &f.Purpose, &f.Name, &f.Size, &f.ContentType, &f.Width, &f.Height,
		&f.Thumbnail, &f.CreatedAt, &f.CompletedAt, &f.ConversationID, &f.MessageID, &f.DeletedAt)
	return f, err
}

var errNoRow = errors.New("file: no such row")

func insert(ctx context.Context, q querier, f File) error {
	_, err := q.Exec(ctx, `INSERT INTO files (id, uploader_id, purpose, name, size, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		int64(f.ID), int64(f.UploaderID), f.Purpose, f.Name, f.Size, f.CreatedAt)
	if err != nil {
		return fmt.Errorf("file: insert: %w", err)
	}
	return nil
}

func load(ctx context.Context, q querier, f id.ID) (File, error) {
	got, err := scan(q.QueryRow(ctx, `SELECT `+columns+` FROM files WHERE id = $1`, int64(f)))
	if errors.Is(err, pgx.ErrNoRows) {
		return File{}, errNoRow
	}
	if err != nil {
		return File{}, fmt.Errorf("file: load %s: %w", f, err)
	}
	return got, nil
}

func loadMany(ctx context.Context, q querier, ids []id.ID) ([]File, error) {
	keys := make([]int64, len(ids))
	for i, f := range ids {
		keys[i] = int64(f)
	}
	rows, err := q.Query(ctx, `SELECT `+columns+` FROM files WHERE id = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("file: load many: %w", err)
	}
	fs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (File, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("file: load many: %w", err)
	}
	return fs, nil
}

// complete records what the check of f's bytes found; false when f was
// completed already (by a concurrent request).
func complete(ctx context.Context, q querier, f File, at time.Time) (bool, error) {
	var w, h *int
	if f.Width > 0 {
		w, h = &f.Width, &f.Height
	}
	tag, err := q.Exec(ctx, `UPDATE files SET content_type = $2, width = $3, height = $4, thumbnail = $5, completed_at = $6
WHERE id = $1 AND completed_at IS NULL`, int64(f.ID), f.ContentType, w, h, f.Thumbnail, at)
	if err != nil {
		return false, fmt.Errorf("file: complete %s: %w", f.ID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// detach marks the files of message m deleted and returns them.
func detach(ctx context.Context, q querier, m id.ID, at time.Time) ([]File, error) {
	rows, err := q.Query(ctx, `UPDATE files SET deleted_at = $2 WHERE message_id = $1 AND deleted_at IS NULL
RETURNING `+columns, int64(m), at)
	if err != nil {
		return nil, fmt.Errorf("file: detach from %s: %w", m, err)
	}
	fs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (File, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("file: detach from %s: %w", m, err)
	}
	return fs, nil
}
