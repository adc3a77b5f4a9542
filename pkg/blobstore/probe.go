package blobstore

import "sync/atomic"

// smallDirect is the size under which a new blob may be sent without first
// asking the registry whether it has it (see existProbe). Once the answers
// showed the data is new, a HEAD is almost surely a round trip for
// nothing, and sending a blob the registry had after all wastes at most
// this much.
const smallDirect = 1 << 20

// existProbe decides, for the blobs of one multi-blob push (PushBlobs,
// PushFiles, PushDir), whether asking the registry for each small blob (a
// HEAD) still pays. Blobs are asked for until 16 answers came back; if
// fewer than one in 16 found the blob, the data is new, and the remaining
// small blobs are sent straight away (POST and one PUT with the digest, the
// registry keeping one copy if it had the blob after all): a third fewer
// requests. Data pushed again keeps finding its blobs, so keeps asking and
// sends nothing. A nil probe always asks.
type existProbe struct{ hits, misses atomic.Int64 }

// newProbe returns a probe for the blobs of one multi-blob push to r: nil
// (always ask) unless the store has upload sessions, where a blob it had
// after all is sent in one request and kept once; elsewhere (a layout)
// asking costs little and is what tells a blob that existed.
func (r *Repository) newProbe() *existProbe {
	if r.up == nil {
		return nil
	}
	return &existProbe{}
}

// ask reports whether a blob of size bytes should be asked for.
func (p *existProbe) ask(size int64) bool {
	if p == nil || size < 0 || size >= smallDirect {
		return true
	}
	h, m := p.hits.Load(), p.misses.Load()
	return m < 16 || h*16 >= m
}

// record counts the answer for a blob of size bytes.
func (p *existProbe) record(size int64, existed bool) {
	if p == nil || size < 0 || size >= smallDirect {
		return
	}
	if existed {
		p.hits.Add(1)
	} else {
		p.misses.Add(1)
	}
}
