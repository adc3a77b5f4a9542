package retry

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestAfter(t *testing.T) {
	for in, want := range map[string]time.Duration{"0": 0, "3": 3 * time.Second, "999": 999 * time.Second, "100000": 100000 * time.Second, "99999999999": MaxAfter} {
		if d, ok := After(in); !ok || d != want {
			t.Errorf("After(%q) = %v, %v", in, d, ok)
		}
	}
	if _, ok := After("soon"); ok {
		t.Error("After accepted garbage")
	}
	if d, ok := After(time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)); !ok || d <= 0 || d > 3*time.Second {
		t.Errorf("After(date) = %v, %v", d, ok)
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	for i := 0; i < 20; i++ {
		d := Backoff(i)
		lo := (200 * time.Millisecond << min(i, 6)) / 2
		if d < min(lo, 5*time.Second) || d > 15*time.Second {
			t.Fatalf("Backoff(%d) = %v", i, d)
		}
	}
}

func TestDoCountsAttempts(t *testing.T) {
	boom := errors.New("boom")
	for _, retries := range []int{0, 1, 3} {
		calls := 0
		err := Do(t.Context(), retries, func() error { calls++; return boom },
			func(error) (bool, time.Duration) { return true, time.Millisecond })
		if !errors.Is(err, boom) || calls != retries+1 {
			t.Errorf("retries %d: %d calls, err %v; want %d calls and boom", retries, calls, err, retries+1)
		}
	}
	calls := 0
	err := Do(t.Context(), 5, func() error { calls++; return boom },
		func(error) (bool, time.Duration) { return false, 0 })
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("permanent: %d calls, err %v", calls, err)
	}
	calls = 0
	err = Do(t.Context(), 5, func() error {
		calls++
		if calls < 3 {
			return boom
		}
		return nil
	}, func(error) (bool, time.Duration) { return true, time.Millisecond })
	if err != nil || calls != 3 {
		t.Errorf("recovering: %d calls, err %v", calls, err)
	}
}

func TestDoStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	err := Do(ctx, 5, func() error { calls++; cancel(); return errors.New("boom") },
		func(error) (bool, time.Duration) { return true, time.Hour })
	if err == nil || calls != 1 {
		t.Errorf("%d calls, err %v", calls, err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	err = Do(ctx, 5, func() error { return errors.New("boom") },
		func(error) (bool, time.Duration) { return true, time.Hour })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("waiting: %v", err)
	}
}

func TestCounter(t *testing.T) {
	c := NewCounter(2)
	for i, want := range []bool{true, true, false} {
		if got := c.Again(); got != want {
			t.Fatalf("failure %d: Again() = %v, want %v", i+1, got, want)
		}
	}
	if c.Failures() != 3 {
		t.Fatalf("a limit of 2 retries: failures %d", c.Failures())
	}
	if err := c.Wait(t.Context(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

func TestTransient(t *testing.T) {
	sentinel := errors.New("refused for good")
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{&Permanent{errors.New("x")}, false},
		{&Status{Resp: &http.Response{Status: "503"}}, true},
		{sentinel, false},
		{errors.New("x509: certificate signed by unknown authority"), false},
		{errors.New("dial tcp: lookup nowhere: no such host"), false},
		{errors.New("read: connection reset by peer"), true},
	} {
		if got := Transient(tc.err, sentinel); got != tc.want {
			t.Errorf("Transient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
