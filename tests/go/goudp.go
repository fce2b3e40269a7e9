// goudp — a Go UDP echo server, client and DNS lookup for seccomp mode
// (tests/t_seccomp_udp.sh). Built with CGO_ENABLED=0: a static binary that makes its
// socket calls with its own syscall instructions, which only the seccomp filter can see.
//
//	goudp server :PORT           ListenUDP; echo every datagram with ReadFromUDP/WriteToUDP;
//	                             says "listening on port PORT"
//	goudp client IP:PORT N       DialUDP; N datagrams of 1..8192 bytes, each echo checked
//	                             (stop and wait, a lost one sent again, at most 20 in all)
//	goudp lookup DNS:53 NAME...  the pure-Go resolver, dialling DNS:53 for every query;
//	                             prints "NAME: ADDR ..." per name; exit 1 on any error
package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// datagram is the k-th datagram: 1..8192 bytes of a pattern, k in the first 4 bytes.
func datagram(k int) []byte {
	n := 8 + (k*2654435761)%8185
	if k%10 == 0 {
		n = 8 + k%8
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*13 + k)
	}
	b[0], b[1], b[2], b[3] = byte(k), byte(k>>8), byte(k>>16), byte(k>>24)
	return b
}

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "goudp: %s: %v\n", what, err)
	os.Exit(1)
}

func server(addr string) {
	c, err := net.ListenUDP("udp", mustResolve(addr))
	if err != nil {
		die("listen", err)
	}
	fmt.Printf("listening on port %s\n", addr[strings.LastIndex(addr, ":")+1:])
	buf := make([]byte, 65536)
	for {
		n, from, err := c.ReadFromUDP(buf)
		if err != nil {
			die("ReadFromUDP", err)
		}
		if _, err := c.WriteToUDP(buf[:n], from); err != nil {
			die("WriteToUDP", err)
		}
	}
}

func mustResolve(addr string) *net.UDPAddr {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		die("address", err)
	}
	return a
}

func client(addr string, n int) {
	c, err := net.DialUDP("udp", nil, mustResolve(addr))
	if err != nil {
		die("DialUDP", err)
	}
	buf := make([]byte, 65536)
	ok, resent := 0, 0
	for k := 0; k < n; k++ {
		d := datagram(k)
		for got := false; !got; {
			if _, err := c.Write(d); err != nil {
				die("Write", err)
			}
			c.SetReadDeadline(time.Now().Add(time.Second))
			for !got {
				m, err := c.Read(buf)
				if err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						break
					}
					die("Read", err)
				}
				seq := int(buf[0]) | int(buf[1])<<8 | int(buf[2])<<16 | int(buf[3])<<24
				if m >= 4 && seq < k {
					continue // the echo of one sent again
				}
				if !bytes.Equal(buf[:m], d) {
					fmt.Fprintf(os.Stderr, "goudp: datagram %d: the echo differs\n", k)
					os.Exit(1)
				}
				got = true
			}
			if !got {
				if resent++; resent > 20 {
					fmt.Fprintln(os.Stderr, "goudp: more than 20 datagrams lost")
					os.Exit(1)
				}
			}
		}
		ok++
	}
	fmt.Printf("%d of %d datagrams ok (%d sent again)\n", ok, n, resent)
}

func lookup(dns string, names []string) {
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", dns)
		},
	}
	for _, name := range names {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		addrs, err := r.LookupHost(ctx, name)
		cancel()
		if err != nil {
			die("lookup "+name, err)
		}
		fmt.Printf("%s: %s\n", name, strings.Join(addrs, " "))
	}
}

func main() {
	switch {
	case len(os.Args) == 3 && os.Args[1] == "server":
		server(os.Args[2])
	case len(os.Args) == 4 && os.Args[1] == "client":
		n, err := strconv.Atoi(os.Args[3])
		if err != nil {
			die("count", err)
		}
		client(os.Args[2], n)
	case len(os.Args) >= 4 && os.Args[1] == "lookup":
		lookup(os.Args[2], os.Args[3:])
	default:
		fmt.Fprintln(os.Stderr, "usage: goudp server :PORT | client IP:PORT N | lookup DNS:53 NAME...")
		os.Exit(2)
	}
}
