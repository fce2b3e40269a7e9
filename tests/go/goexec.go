// goexec — a Go program (CGO_ENABLED=0: static, its own system calls) that starts static
// children with os/exec, Go's fork + exec, for seccomp mode (tests/t_seccomp.sh): the
// filter and its service must reach the children too. The server is sc_tcp's
// (tests/progs/sc_tcp.c): it reads to EOF and answers "<bytes> <FNV-1a hash>".
//
//	goexec parent IP PORT BYTES [PROG ARGS...]  runs itself as `goexec child IP PORT BYTES`,
//	                                            then PROG ARGS... if given; each child must
//	                                            exit 0; says "goexec: N children ok"
//	goexec child IP PORT BYTES                  connect to IP:PORT, send BYTES of sc_tcp's
//	                                            pattern, close the write side, check the
//	                                            server's answer
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "goexec: "+format+"\n", a...)
	os.Exit(1)
}

// pat is sc_tcp's pattern: byte i of a stream.
func pat(i uint64) byte {
	return byte(i*7 + i/251)
}

func child(ip, port string, n uint64) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(ip, port), 20*time.Second)
	if err != nil {
		fail("child: %v", err)
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	h := uint64(0xcbf29ce484222325)
	buf := make([]byte, 65536)
	for sent := uint64(0); sent < n; {
		k := uint64(len(buf))
		if n-sent < k {
			k = n - sent
		}
		for i := uint64(0); i < k; i++ {
			buf[i] = pat(sent + i)
			h = (h ^ uint64(buf[i])) * 0x100000001b3
		}
		if _, err := c.Write(buf[:k]); err != nil {
			fail("child: write: %v", err)
		}
		sent += k
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		fail("child: shutdown: %v", err)
	}
	ans, err := io.ReadAll(c)
	if err != nil {
		fail("child: read the answer: %v", err)
	}
	c.Close()
	want := fmt.Sprintf("%d %016x", n, h)
	if strings.TrimSpace(string(ans)) != want {
		fail("child: the server saw %q, want %q", strings.TrimSpace(string(ans)), want)
	}
	fmt.Printf("goexec child: %d bytes checked (pid %d)\n", n, os.Getpid())
}

func run(name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		fail("parent: %s: %v", name, err)
	}
}

func main() {
	if len(os.Args) < 5 {
		fail("usage: goexec parent IP PORT BYTES [PROG ARGS...] | child IP PORT BYTES")
	}
	n, err := strconv.ParseUint(os.Args[4], 10, 64)
	if err != nil {
		fail("bad byte count %q", os.Args[4])
	}
	switch os.Args[1] {
	case "child":
		child(os.Args[2], os.Args[3], n)
	case "parent":
		self, err := os.Executable()
		if err != nil {
			fail("parent: %v", err)
		}
		run(self, "child", os.Args[2], os.Args[3], os.Args[4])
		kids := 1
		if len(os.Args) > 5 {
			run(os.Args[5], os.Args[6:]...)
			kids++
		}
		fmt.Printf("goexec: %d children ok\n", kids)
	default:
		fail("unknown role %q", os.Args[1])
	}
}
