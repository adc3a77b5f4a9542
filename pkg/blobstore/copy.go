package blobstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/dxf-go/dxf/internal/jobs"
)

// CopyResult describes a finished [Copy].
type CopyResult struct {
	// Manifest is the manifest the target alias now names: byte for byte
	// the source's, so of the same digest; but for an alias of the Docker
	// form that the target refused, which is written in the OCI form
	// instead (see [Copy]).
	Manifest *Manifest
	// Manifests is how many manifests were written (the alias's, and the
	// child manifests and subjects it reaches).
	Manifests int
	// Blobs is how many blobs the alias reaches.
	Blobs int
	// Existed is how many of them the target already had (nothing sent).
	Existed int
	// Mounted is how many were mounted from the source repository (same
	// registry: nothing sent through the client).
	Mounted int
	// Copied is how many were streamed from the source to the target.
	Copied int
	// Bytes is how many blob bytes were streamed (those of the Copied
	// blobs).
	Bytes int64
}

// Copy copies srcAlias (a tag, or a manifest digest) of src to dstAlias of
// dst, with everything it reaches (see [Repository.Reach]): every blob,
// then every child manifest and subject, and the alias last, once all of
// them are there. An empty dstAlias means srcAlias. Manifests are copied
// byte for byte, so the target names the same digest. One exception: an
// alias of the Docker form, as dxf and the Python tool write it, that the
// target refuses for its form (zot does by default) is written there in
// the OCI form, of the same blobs, and [WithFormatNotice] is told, as a
// push would do; any other manifest refused fails the copy.
//
// For each blob, the target is asked first (one HEAD) and a blob it has is
// skipped, so a copy that was interrupted resumes when run again, sending
// only what is missing. When src and dst are repositories of the same
// registry host, a missing blob is mounted (a cross-repository mount: no
// blob byte passes through the client); if the registry does not mount it,
// or the stores differ, the blob is streamed from src to dst, in constant
// memory, and verified on the way: the source reader holds it to its size
// (and resumes a broken download), the data is hashed as it passes and
// compared with the digest before the target commits it, and a registry
// checks the digest again on commit. A blob whose data does not match its
// digest fails the copy ([*DigestMismatchError], naming both digests),
// nothing is stored under its digest, and the alias is not written.
//
// Up to [WithJobs] blobs are copied at once; [WithProgress] reports each
// blob (Index is its place in the Reach's Blobs; Existed or Mounted marks
// one that was not sent). Each repository uses its own registry's
// credentials: neither sees the other's.
func Copy(ctx context.Context, src, dst *Repository, srcAlias, dstAlias string, opts ...TransferOption) (*CopyResult, error) {
	if dstAlias == "" {
		dstAlias = srcAlias
	}
	op := fmt.Sprintf("copy %s@%s to %s@%s", src, srcAlias, dst, dstAlias)
	if err := ValidateAlias(dstAlias); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	o := makeTransferOptions(opts)
	reach, err := src.Reach(ctx, srcAlias, WithJobs(o.jobs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if d, err := ParseDigest(dstAlias); err == nil && d != reach.Root.Digest {
		return nil, fmt.Errorf("%s: %w: the target is named by digest %s, the source manifest is %s", op, ErrInvalidName, d, reach.Root.Digest)
	}
	res := &CopyResult{Blobs: len(reach.Blobs)}
	var existed, mounted, copied atomic.Int64
	var bytes atomic.Int64
	mount := src.reg != nil && dst.reg != nil && src.reg.Host() == dst.reg.Host() && src.Name() != dst.Name()
	err = jobs.ForEach(ctx, o.jobs, len(reach.Blobs), func(ctx context.Context, i int) error {
		how, err := copyBlob(ctx, src, dst, i, reach.Blobs[i], mount, o)
		switch how {
		case blobExisted:
			existed.Add(1)
		case blobMounted:
			mounted.Add(1)
		case blobCopied:
			copied.Add(1)
			bytes.Add(reach.Blobs[i].Size)
		}
		return err
	})
	res.Existed, res.Mounted, res.Copied, res.Bytes = int(existed.Load()), int(mounted.Load()), int(copied.Load()), bytes.Load()
	if err != nil {
		return res, fmt.Errorf("%s: %w", op, err)
	}
	// Child manifests by digest, children before the manifests naming
	// them; the alias last.
	for _, m := range reach.Manifests[:len(reach.Manifests)-1] {
		if _, err := dst.SetManifest(ctx, m.Digest.String(), m.Raw); err != nil {
			return res, fmt.Errorf("%s: %w", op, err)
		}
		res.Manifests++
	}
	if res.Manifest, err = dst.SetManifest(ctx, dstAlias, reach.Root.Raw); err != nil {
		if res.Manifest, err = copyAsArtifact(ctx, dst, dstAlias, reach.Root, err, o); err != nil {
			return res, fmt.Errorf("%s: %w", op, err)
		}
	}
	res.Manifests++
	return res, nil
}

// copyAsArtifact writes the alias m of the Docker form (the Python tool's,
// as [MakeManifest] makes it) in the OCI form when the target refused it
// for its form (err, from the first try; zot does by default), as a push
// would, and tells [WithFormatNotice]. Its blobs are the same, so pulls
// read the same bytes; the manifest, and so its digest, differs. Any other
// manifest, or any other refusal, is err.
func copyAsArtifact(ctx context.Context, dst *Repository, alias string, m *Manifest, err error, o transferOptions) (*Manifest, error) {
	if !dockerRefused(err) {
		return nil, err
	}
	if docker, e := MakeManifest(m.Layers...); e != nil || !bytes.Equal(docker, m.Raw) {
		return nil, err
	}
	files, e := Files(m, alias)
	if e != nil {
		return nil, err
	}
	got, e := dst.SetAliasFiles(ctx, alias, files, WithFormat(FormatOCI))
	if e != nil {
		return nil, fmt.Errorf("%w (and then in the OCI form: %w)", err, e)
	}
	if o.notice != nil {
		o.notice(fmt.Sprintf("the target refused the Docker manifest form; alias %s was written there as an OCI artifact of the same blobs instead (manifest %s, not the source's %s)", alias, got.Digest, m.Digest))
	}
	return got, nil
}

// blobOutcome says what copyBlob did.
type blobOutcome int

const (
	blobFailed blobOutcome = iota
	blobExisted
	blobMounted
	blobCopied
)

// copyBlob makes blob b, the i-th the copy reaches, present in dst: it is
// there already, or mounted from src (if mount is set), or streamed.
func copyBlob(ctx context.Context, src, dst *Repository, i int, b Blob, mount bool, o transferOptions) (blobOutcome, error) {
	size, err := dst.BlobSize(ctx, b.Digest)
	switch {
	case errors.Is(err, ErrBlobNotFound):
	case err != nil:
		return blobFailed, err
	default:
		if b.Size >= 0 && size != b.Size {
			return blobFailed, fmt.Errorf("copy blob %s: %w: the target holds %d bytes, the manifest gives %d", b.Digest, ErrSizeMismatch, size, b.Size)
		}
		o.report(Progress{Index: i, Blob: Blob{Digest: b.Digest, Size: size}, Done: size, Existed: true, Finished: true})
		return blobExisted, nil
	}
	if mount {
		err := dst.MountBlob(ctx, src.Name(), b.Digest)
		if err == nil {
			o.report(Progress{Index: i, Blob: b, Done: max(b.Size, 0), Mounted: true, Finished: true})
			return blobMounted, nil
		}
		if ctx.Err() != nil {
			return blobFailed, err
		}
		// Not mounted (the registry does not mount, or the target's
		// credentials cannot read the source): stream it instead.
	}
	br, err := src.PullBlobSize(ctx, b.Digest, b.Size)
	if err != nil {
		return blobFailed, err
	}
	defer br.Close()
	// The data is hashed once, by the push, and compared with b.Digest
	// before the target commits it; the source reader holds it to its
	// size, and resumes a broken download.
	br.unhashed = true
	rd := &copyReader{r: br}
	popts := []TransferOption{WithDigest(b.Digest), WithSize(br.Size), WithCheckExists(false)}
	if o.progress != nil {
		popts = append(popts, WithProgress(func(p Progress) {
			p.Index = i
			o.progress(p)
		}))
	}
	if _, err := dst.PushBlob(ctx, rd, popts...); err != nil {
		var dm *DigestMismatchError
		if errors.As(err, &dm) && dm.Expected == b.Digest && rd.err == nil {
			return blobFailed, fmt.Errorf("copy blob %s: the source's data does not match its digest (nothing was stored): %w", b.Digest, dm)
		}
		if rd.err != nil {
			// The source's data was bad (or broke): that is the story,
			// not how the upload ended.
			return blobFailed, fmt.Errorf("copy blob %s: reading the source: %w", b.Digest, rd.err)
		}
		return blobFailed, fmt.Errorf("copy blob %s: %w", b.Digest, err)
	}
	return blobCopied, nil
}

// copyReader passes a source blob's reads through, remembering the first
// error other than io.EOF, so a digest mismatch found by the source reader
// is reported as such whatever the upload makes of it.
type copyReader struct {
	r   io.Reader
	err error
}

func (c *copyReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && c.err == nil {
		c.err = err
	}
	return n, err
}
