// gohttp — a Go net/http server and client for seccomp mode (tests/t_seccomp.sh). Built
// with CGO_ENABLED=0: a static binary that makes its socket calls with its own syscall
// instructions, which only the seccomp filter can see.
//
//	gohttp server :PORT                   serve /?i=K with body(K); says "listening on port PORT"
//	gohttp client URL REQUESTS GOROUTINES GET URL?i=K for K in 0..REQUESTS-1 over GOROUTINES,
//	                                      every body checked; exit 1 on any error
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// body is the deterministic answer to request k: 1..8 KiB of a pattern.
func body(k int) []byte {
	n := 1024 * (1 + k%8)
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + k)
	}
	return b
}

func server(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gohttp: listen:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on port %s\n", addr[strings.LastIndex(addr, ":")+1:])
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		k, err := strconv.Atoi(r.URL.Query().Get("i"))
		if err != nil {
			http.Error(w, "bad i", 400)
			return
		}
		w.Write(body(k))
	})
	fmt.Fprintln(os.Stderr, "gohttp: serve:", http.Serve(ln, nil))
	os.Exit(1)
}

func client(url string, reqs, gor int) {
	tr := &http.Transport{MaxIdleConnsPerHost: gor}
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next, ok, bad int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for g := 0; g < gor; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(atomic.AddInt64(&next, 1) - 1)
				if k >= reqs {
					return
				}
				r, err := c.Get(fmt.Sprintf("%s?i=%d", url, k))
				if err == nil {
					var b []byte
					b, err = io.ReadAll(r.Body)
					r.Body.Close()
					if err == nil && !bytes.Equal(b, body(k)) {
						err = fmt.Errorf("request %d: body differs (%d bytes)", k, len(b))
					}
				}
				if err != nil {
					if atomic.AddInt64(&bad, 1) <= 3 {
						fmt.Fprintln(os.Stderr, "gohttp:", err)
					}
					continue
				}
				atomic.AddInt64(&ok, 1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("%d of %d requests ok over %d goroutines in %d ms\n", ok, reqs, gor,
		time.Since(t0).Milliseconds())
	if ok != int64(reqs) {
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "server" {
		server(os.Args[2])
	}
	if len(os.Args) == 5 && os.Args[1] == "client" {
		n, _ := strconv.Atoi(os.Args[3])
		g, _ := strconv.Atoi(os.Args[4])
		client(os.Args[2], n, g)
		return
	}
	fmt.Fprintln(os.Stderr, "usage: gohttp server :PORT | client URL REQUESTS GOROUTINES")
	os.Exit(2)
}
