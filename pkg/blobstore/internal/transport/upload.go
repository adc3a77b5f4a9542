package transport

import (
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/dxf-go/dxf/pkg/blobstore/internal/hashing"
)

// UploadBody is the data of one upload request: it counts and hashes what
// the HTTP transport reads, reports progress, and remembers a read error (to
// tell a failing source from a failing network). It can be sent again —
// after a token refresh or a redirect — when its data can be rewound: a
// seekable stream from where it began, a section of a file from its first
// byte, with the hash put back to the matching state.
//
// The transport reads it through attempt bodies; Stop and restart retire
// the current one, so a transport goroutine still reading an old attempt
// can never feed the hash after the caller moved on.
type UploadBody struct {
	r        io.Reader
	h        *hashing.Hasher
	n        int64            // bytes read in this attempt
	length   int64            // bytes the request carries; -1 if unknown
	base     int64            // offset of r's first byte in the blob, for progress
	progress func(done int64) // told the bytes of the blob sent so far
	err      error
	// rewind, if set, restarts the data from its beginning (and the hash
	// from the matching state), so the request can be sent again.
	rewind func() error

	mu  sync.Mutex
	gen int
}

// StreamBody is the body of a one-request upload of rd: length bytes (-1 if
// unknown) making up the whole blob. It can be sent again if rd can seek.
func StreamBody(rd io.Reader, h *hashing.Hasher, length int64, progress func(int64)) *UploadBody {
	b := &UploadBody{r: rd, h: h, length: length, progress: progress}
	s, ok := rd.(io.Seeker)
	if !ok {
		return b
	}
	start, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return b
	}
	b.rewind = func() error {
		if _, err := s.Seek(start, io.SeekStart); err != nil {
			return err
		}
		b.n = 0
		return h.Restore(nil)
	}
	return b
}

// SectionBody is the body of one chunk of an upload: bytes [off, off+n) of
// ra, a blob whose hash up to off is saved. It can always be sent again.
func SectionBody(ra io.ReaderAt, off, n int64, h *hashing.Hasher, saved []byte, progress func(int64)) *UploadBody {
	sec := io.NewSectionReader(ra, off, n)
	b := &UploadBody{r: sec, h: h, length: n, base: off, progress: progress}
	b.rewind = func() error {
		if _, err := sec.Seek(0, io.SeekStart); err != nil {
			return err
		}
		b.n = 0
		return h.Restore(saved)
	}
	return b
}

// errRetired is what a retired attempt body answers.
var errRetired = errors.New("request body no longer in use")

// Attach makes b the body of hr, retiring any earlier attempt. The caller
// calls Stop once the request is done.
func (b *UploadBody) Attach(hr *http.Request) {
	hr.Body = b.attempt()
	hr.ContentLength = b.length
	if b.length == 0 {
		hr.Body = http.NoBody
	}
	if b.rewind != nil {
		hr.GetBody = func() (io.ReadCloser, error) {
			if err := b.restart(); err != nil {
				return nil, err
			}
			return b.attempt(), nil
		}
	}
}

// attemptBody is the body of one attempt to send an UploadBody.
type attemptBody struct {
	b   *UploadBody
	gen int
}

func (a *attemptBody) Read(p []byte) (int, error) {
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	if a.b.gen != a.gen {
		return 0, errRetired
	}
	return a.b.read(p)
}

func (a *attemptBody) Close() error { return nil }

// attempt retires any earlier attempt and returns the body for a new one.
func (b *UploadBody) attempt() io.ReadCloser {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gen++
	return &attemptBody{b: b, gen: b.gen}
}

// Stop retires the current attempt, waiting for a Read in progress. The
// transport may still be reading the body after answering (a registry can
// refuse a request before reading it); after stop it no longer can, and
// the caller may touch the hash again.
func (b *UploadBody) Stop() {
	b.mu.Lock()
	b.gen++
	b.mu.Unlock()
}

// restart retires the current attempt and rewinds the data.
func (b *UploadBody) restart() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gen++
	return b.rewind()
}

func (b *UploadBody) read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		_, _ = b.h.Write(p[:n])
		b.n += int64(n)
		if b.progress != nil {
			b.progress(b.base + b.n)
		}
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// Sent returns the bytes read from the data in the current attempt.
func (b *UploadBody) Sent() int64 { return b.n }

// Err returns the error reading the data gave, if any: the source failed,
// not the network.
func (b *UploadBody) Err() error { return b.err }
