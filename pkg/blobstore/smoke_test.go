package blobstore

import (
	"bytes"
	"context"
	"io"
	"log"
	"testing"
)

func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }

func TestSmokeMem(t *testing.T) {
	ctx := context.Background()
	r := newMemRepo(t, "foo/bar")
	res, err := r.PushBlob(ctx, bytes.NewReader([]byte("abc")))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	raw, err := r.SetAlias(ctx, "x", res.Digest)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(string(raw), HashBytes(raw))
	a, err := r.GetAlias(ctx, "x", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Log(a.Image().Digests())
	br, err := r.PullBlob(ctx, res.Digest)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(br)
	t.Log(string(b), err)
	tags, err := r.ListAliases(ctx)
	t.Log(tags, err)
}
