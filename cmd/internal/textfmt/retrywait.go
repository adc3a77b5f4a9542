package textfmt

import (
	"fmt"
	"net/http"
	"time"
)

// RetryWait is the line on standard error before a wait a registry asked
// for (Retry-After with the HTTP status given), so that a long silence is
// explained; wait is shorter than asked when a limit cut it.
func RetryWait(status int, asked, wait time.Duration) string {
	s := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if wait < asked {
		return fmt.Sprintf("dxf: the registry asked to wait %s (%s); waiting %s (--max-retry-wait), then retrying", asked.Round(time.Second), s, wait.Round(time.Second))
	}
	return fmt.Sprintf("dxf: the registry asked to wait %s (%s), retrying", wait.Round(time.Second), s)
}
