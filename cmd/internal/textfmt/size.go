package textfmt

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads a size in bytes with an optional binary suffix: K, M
// or G (KiB, MiB, GiB, KB … mean the same), in any case.
func ParseSize(v string) (int64, error) {
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimSuffix(strings.TrimSuffix(s, "B"), "I")
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			s = s[:len(s)-1]
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("not a size: %q", v)
	}
	return n * mult, nil
}

// ByteRange is a range of bytes, Start to End, both included; End < 0
// means to the end.
type ByteRange struct{ Start, End int64 }

// ParseRange reads "START-END" (END included) or "START-", each a size
// as ParseSize reads it.
func ParseRange(v string) (*ByteRange, error) {
	a, b, ok := strings.Cut(v, "-")
	if !ok {
		return nil, fmt.Errorf("want START-END (bytes from 0, END included) or START-, not %q", v)
	}
	start, err := ParseSize(a)
	if err != nil {
		return nil, err
	}
	r := &ByteRange{Start: start, End: -1}
	if strings.TrimSpace(b) != "" {
		if r.End, err = ParseSize(b); err != nil {
			return nil, err
		}
		if r.End < start {
			return nil, fmt.Errorf("END %d is before START %d", r.End, start)
		}
	}
	return r, nil
}
