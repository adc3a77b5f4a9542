package blobstore

import (
	"bytes"
	"sync"
	"testing"
)

// TestSplitProgressPresent: a split push reports, besides the bytes done,
// those the registry already had (Present): none on a first push, all but
// the changed chunks on a push of the file with a small change; and a plain
// push of a blob the registry has reports it all Present.
func TestSplitProgressPresent(t *testing.T) {
	t.Parallel()
	r := plainRepo(t)
	ctx := t.Context()
	data := seededBytes(2<<20, 7)
	push := func(what string, d []byte) (SplitResult, Progress) {
		t.Helper()
		var mu sync.Mutex
		var last Progress
		res, err := r.PushFileSplit(ctx, writeTemp(t, d), WithSplitAverage(64<<10), WithProgress(func(p Progress) {
			mu.Lock()
			defer mu.Unlock()
			if p.Done < last.Done || p.Present < last.Present || p.Present > p.Done {
				t.Errorf("%s: report %+v after %+v", what, p, last)
			}
			last = p
		}))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if last.Done != res.Size || last.Present != res.Size-res.UploadedBytes {
			t.Errorf("%s: last report Done %d, Present %d; the push sent %d of %d bytes", what, last.Done, last.Present, res.UploadedBytes, res.Size)
		}
		return res, last
	}
	if _, p := push("first", data); p.Present != 0 {
		t.Errorf("first push: %d bytes present, want 0", p.Present)
	}
	changed := bytes.Clone(data)
	copy(changed[1<<20:], seededBytes(4096, 8))
	res, p := push("changed", changed)
	if res.UploadedBytes == 0 || p.Present < int64(len(data))/2 {
		t.Errorf("changed: %d bytes sent, %d present", res.UploadedBytes, p.Present)
	}

	var existed Progress
	first, err := r.PushBlob(ctx, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.PushBlob(ctx, bytes.NewReader(data), WithDigest(first.Digest), WithProgress(func(p Progress) { existed = p }))
	if err != nil {
		t.Fatal(err)
	}
	if !b.Existed || !existed.Existed || existed.Present != int64(len(data)) {
		t.Errorf("second plain push: existed %v, last report %+v", b.Existed, existed)
	}
}
