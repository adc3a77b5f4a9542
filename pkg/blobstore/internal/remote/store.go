package remote

import (
	"context"
	"fmt"
	"io"
	"net/http"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/hashing"
	xport "github.com/dxf-go/dxf/pkg/blobstore/internal/transport"
	"github.com/dxf-go/dxf/pkg/blobstore/store"
)

var (
	_ store.Store     = (*Repo)(nil)
	_ store.Deleter   = (*Repo)(nil)
	_ store.Mounter   = (*Repo)(nil)
	_ store.Describer = (*Repo)(nil)

	_ store.BoundedManifestGetter = (*Repo)(nil)
	_ store.ManifestChecker       = (*Repo)(nil)
	_ store.Untagger              = (*Repo)(nil)
	_ store.BytesPutter           = (*Repo)(nil)
	_ store.Fetcher               = (*Repo)(nil)
)

// Codec is what a Repo is told of the grammar of names, digests and
// manifests, which the package above owns (with its error values): a signed
// Docker schema 1 manifest, for one, is digested without its signatures.
type Codec struct {
	// ParseDigest parses "sha256:<64 hex digits>".
	ParseDigest func(string) (v1.Hash, error)
	// ValidateAlias checks an alias (a tag or a digest) before it is used.
	ValidateAlias func(string) error
	// ParseManifest parses raw (answered with contentType, "" if not
	// known) and returns its media type and digest.
	ParseManifest func(raw []byte, contentType string) (mediaType string, d v1.Hash, err error)
	// Accept lists the manifest media types asked for.
	Accept string
	// Limit bounds a manifest's size; TooBig is the error for one larger.
	Limit  int64
	TooBig error
	// Refused may explain a manifest PUT the registry refused (err) for a
	// manifest of mediaType.
	Refused func(err error, mediaType string) error
	// Repository returns another repository of the same registry (Mount's
	// source), checking its name.
	Repository func(name string) (*Repo, error)
}

// ReadManifest GETs the manifest ref names for op (at most limit bytes,
// else tooBig), hands its bytes and Content-Type to parse, which returns
// its digest, and checks that digest against the one ref is, or else the
// one the registry names (Docker-Content-Digest), if any.
func (r *Repo) ReadManifest(ctx context.Context, op, ref string, limit int64, tooBig error, parse func(raw []byte, contentType string) (v1.Hash, error)) error {
	raw, hdr, err := r.FetchManifest(ctx, op, ref, r.codec.Accept, limit, tooBig)
	if err != nil {
		return err
	}
	got, err := parse(raw, hdr.Get("Content-Type"))
	if err != nil {
		return opErrorf(op, "%w", err)
	}
	want := hdr.Get("Docker-Content-Digest")
	if d, err := r.codec.ParseDigest(ref); err == nil {
		want = d.String()
	}
	if want != "" {
		d, err := r.codec.ParseDigest(want)
		if err != nil {
			return opErrorf(op, "Docker-Content-Digest: %w", err)
		}
		if d != got {
			return opErrorf(op, "%w", &store.DigestMismatchError{Expected: d, Got: got})
		}
	}
	return nil
}

// WriteManifest PUTs raw, of mediaType and digest d, under ref for op, and
// checks that the registry stored it: the digest it names, or else a 201
// Created answer.
func (r *Repo) WriteManifest(ctx context.Context, op, ref string, raw []byte, mediaType string, d v1.Hash) error {
	resp, err := r.SendManifest(ctx, op, ref, raw, mediaType, func(err error) error { return r.codec.Refused(err, mediaType) })
	if err != nil {
		return err
	}
	// The registry names what it stored: if that is not what we sent, the
	// manifest was damaged on the way (or this is not a registry at all).
	got := resp.Header.Get("Docker-Content-Digest")
	switch {
	case got != "":
		gd, err := r.codec.ParseDigest(got)
		if err != nil {
			return opErrorf(op, "Docker-Content-Digest: %w", err)
		}
		if gd != d {
			return opErrorf(op, "the registry stored something else: %w", &store.DigestMismatchError{Expected: d, Got: gd})
		}
	case resp.StatusCode != http.StatusCreated:
		return opErrorf(op, "%w: the answer (%s) is not a registry's", store.ErrInvalidManifest, resp.Status)
	}
	return nil
}

// GetManifest implements [store.Store].
func (r *Repo) GetManifest(ctx context.Context, ref string) (store.Manifest, error) {
	return r.GetManifestBounded(ctx, ref, r.codec.Limit, r.codec.TooBig)
}

// GetManifestBounded implements [store.BoundedManifestGetter]: the answer
// is read no further than limit bytes.
func (r *Repo) GetManifestBounded(ctx context.Context, ref string, limit int64, tooBig error) (store.Manifest, error) {
	op := fmt.Sprintf("get alias %s", ref)
	if err := r.codec.ValidateAlias(ref); err != nil {
		return store.Manifest{}, opErrorf(op, "%w", err)
	}
	var m store.Manifest
	err := r.ReadManifest(ctx, op, ref, limit, tooBig, func(raw []byte, contentType string) (v1.Hash, error) {
		mt, d, err := r.codec.ParseManifest(raw, contentType)
		m = store.Manifest{Raw: raw, MediaType: mt, Digest: d}
		return d, err
	})
	if err != nil {
		return store.Manifest{}, err
	}
	return m, nil
}

// PutManifest implements [store.Store]. The media type is the one m.Raw
// names, whatever m.MediaType says.
func (r *Repo) PutManifest(ctx context.Context, ref string, m store.Manifest) (v1.Hash, error) {
	op := "set alias " + ref
	if err := r.codec.ValidateAlias(ref); err != nil {
		return v1.Hash{}, opErrorf(op, "%w", err)
	}
	mt, d, err := r.codec.ParseManifest(m.Raw, "")
	if err != nil {
		return v1.Hash{}, opErrorf(op, "%w", err)
	}
	if err := r.WriteManifest(ctx, op, ref, m.Raw, mt, d); err != nil {
		return v1.Hash{}, err
	}
	return d, nil
}

// Describe implements [store.Describer]: the repository's name, and
// host/name.
func (r *Repo) Describe() (name, full string) { return r.repo.RepositoryStr(), r.repo.Name() }

// HasManifest implements [store.ManifestChecker]: a HEAD request.
func (r *Repo) HasManifest(ctx context.Context, op, ref string) (bool, error) {
	return r.ManifestExists(ctx, op, ref, r.codec.Accept)
}

// Untag implements [store.Untagger]: the distribution specification's
// deletion of a tag by name (DELETE of the manifest by its alias). Its
// errors are named "delete alias ALIAS".
func (r *Repo) Untag(ctx context.Context, alias string) error {
	return r.Delete(ctx, "delete alias "+alias, SubjectManifest, r.URL("/manifests/%s", alias))
}

// Mount implements [store.Mounter].
func (r *Repo) Mount(ctx context.Context, from string, d v1.Hash) error {
	op := fmt.Sprintf("mount blob %s from %s", d, from)
	src, err := r.codec.Repository(from)
	if err != nil {
		return opErrorf(op, "%w", err)
	}
	return r.MountFrom(ctx, op, src, d)
}

// Put implements [store.Store]: a blob of known digest the registry
// already has is not sent again (HEAD); otherwise the data goes in one
// streamed PATCH, hashed on the way, and the commit names the digest of
// what was sent, so the registry commits it only under that digest.
func (r *Repo) Put(ctx context.Context, rd io.Reader, want store.Blob) (store.Blob, error) {
	known := want.Digest != (v1.Hash{})
	if want.Size >= 0 {
		rd = &exactReader{r: rd, left: want.Size, size: want.Size}
	}
	op := "push blob"
	if known {
		ok, size, err := r.HeadBlob(ctx, want.Digest)
		if err != nil {
			return store.Blob{}, err
		}
		if ok {
			return store.Blob{Digest: want.Digest, Size: size}, nil
		}
		op += " " + want.Digest.String()
	}
	c, err := r.PushClient(ctx)
	if err != nil {
		return store.Blob{}, WrapErr(op, SubjectRepo, err)
	}
	loc, err := r.StartUpload(ctx, c, op, "")
	if err != nil {
		return store.Blob{}, err
	}
	h := hashing.New()
	defer h.Close()
	body := xport.StreamBody(rd, h, -1, nil)
	next, err := r.PatchStream(ctx, c, op, loc, body)
	if err != nil {
		return store.Blob{}, err
	}
	if body.Err() != nil {
		return store.Blob{}, opErrorf(op, "reading the data: %w", body.Err())
	}
	if next != "" {
		if loc, err = ResolveLocation(loc, next); err != nil {
			return store.Blob{}, opErrorf(op, "%w", err)
		}
	}
	d := h.Digest()
	if known && d != want.Digest {
		return store.Blob{}, opErrorf(op, "%w (the data changed while it was pushed)", &store.DigestMismatchError{Expected: want.Digest, Got: d})
	}
	if _, err := r.CommitUpload(ctx, c, "push blob "+d.String(), loc, d, xport.Request{}, func() error { return nil }); err != nil {
		return store.Blob{}, err
	}
	return store.Blob{Digest: d, Size: body.Sent()}, nil
}

// PutBytes implements [store.BytesPutter]: an upload session (POST), then
// one PUT carrying data and its digest, which the registry checks before
// storing it. Its errors are named "push blob DIGEST".
func (r *Repo) PutBytes(ctx context.Context, d v1.Hash, data []byte) error {
	op := "push blob " + d.String()
	c, err := r.PushClient(ctx)
	if err != nil {
		return WrapErr(op, SubjectRepo, err)
	}
	loc, err := r.StartUpload(ctx, c, op, "")
	if err != nil {
		return err
	}
	if data == nil {
		data = []byte{} // a body that can be sent again, if need be
	}
	_, err = r.CommitUpload(ctx, c, op, loc, d, xport.Request{Body: data}, func() error { return nil })
	return err
}

// exactReader fails with ErrSizeMismatch unless r yields exactly size
// bytes. It hides any io.ReaderAt of r, so the upload is one stream.
type exactReader struct {
	r          io.Reader
	left, size int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if int64(len(p)) > e.left+1 {
		p = p[:e.left+1]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if e.left < 0 {
		return n, fmt.Errorf("%w: more than the %d bytes announced", store.ErrSizeMismatch, e.size)
	}
	if err == io.EOF && e.left > 0 {
		return n, fmt.Errorf("%w: %d bytes, %d announced", store.ErrSizeMismatch, e.size-e.left, e.size)
	}
	return n, err
}
