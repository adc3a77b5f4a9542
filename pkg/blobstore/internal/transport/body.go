package transport

import (
	"fmt"
	"io"
	"net/http"
)

// sentBody marks a request body that has been handed to the network once.
type sentBody struct {
	io.ReadCloser
	read bool
}

func (b *sentBody) Read(p []byte) (int, error) {
	b.read = true
	return b.ReadCloser.Read(p)
}

// rewindIfReplayed gives a request that is being sent again a fresh body.
// go-containerregistry's bearer transport re-sends a request after
// refreshing an expired token, but with the body the first attempt consumed;
// GetBody (set for byte bodies, and by an upload's Attach for bodies that
// can be rewound) lets us start it over.
func rewindIfReplayed(req *http.Request) error {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	sb, ok := req.Body.(*sentBody)
	if !ok {
		req.Body = &sentBody{ReadCloser: req.Body}
		return nil
	}
	if !sb.read {
		return nil
	}
	if req.GetBody == nil {
		return fmt.Errorf("%s %s: the request must be sent again (new credentials) but its body cannot be replayed", req.Method, req.URL.Redacted())
	}
	body, err := req.GetBody()
	if err != nil {
		return fmt.Errorf("replaying %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	req.Body = &sentBody{ReadCloser: body}
	return nil
}
