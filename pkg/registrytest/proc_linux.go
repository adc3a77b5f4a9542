package registrytest

import "syscall"

// sysProcAttr makes the kernel kill the registry if the test process dies
// without stopping it, so no orphan keeps holding the port.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
