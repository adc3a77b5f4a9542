package registrytest

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
)

// listenLoopback listens on 127.0.0.1 on a port chosen by the kernel and,
// where IPv6 is available, on [::1] with the same port, because "localhost"
// may resolve to either. l6 is nil without IPv6.
func listenLoopback() (l4, l6 net.Listener, err error) {
	for range 20 {
		l4, err = net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		port := l4.Addr().(*net.TCPAddr).Port
		l6, err = net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port)))
		if err == nil {
			return l4, l6, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return l4, nil, nil // no IPv6 loopback
		}
		_ = l4.Close() // taken on ::1 by someone else: try another port
	}
	return nil, nil, fmt.Errorf("registrytest: no free loopback port: %w", err)
}

// freePort returns a port that was free on the loopback interface(s) a
// moment ago. Whoever binds it next may lose a race with another process;
// callers retry on "address already in use".
func freePort() (int, error) {
	l4, l6, err := listenLoopback()
	if err != nil {
		return 0, err
	}
	port := l4.Addr().(*net.TCPAddr).Port
	_ = l4.Close()
	if l6 != nil {
		_ = l6.Close()
	}
	return port, nil
}
