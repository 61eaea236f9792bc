package compare

import (
	"bytes"
	"syscall"
	"testing"
	"unsafe"

	"github.com/nickovs/gopssst"
	"golang.org/x/crypto/curve25519"
)

const suite = gopssst.CipherSuiteX25519AESGCM

var (
	message = bytes.Repeat([]byte{0x42}, 64)
	sink    []byte
)

type fixture struct {
	server      gopssst.Server
	serverPub   []byte
	anon, auth  gopssst.Client
	requestAnon []byte
	requestAuth []byte
}

func newFixture(b *testing.B) *fixture {
	serverPriv, serverPub, err := gopssst.GenerateKeyPair(suite, nil)
	must(b, err)
	clientPriv, _, err := gopssst.GenerateKeyPair(suite, nil)
	must(b, err)
	f := &fixture{serverPub: serverPub.([]byte)}
	f.server, err = gopssst.NewServer(suite, serverPriv)
	must(b, err)
	f.anon, err = gopssst.NewClient(suite, serverPub, nil)
	must(b, err)
	f.auth, err = gopssst.NewClient(suite, serverPub, clientPriv)
	must(b, err)
	f.requestAnon, _, err = f.anon.PackOutgoing(message)
	must(b, err)
	f.requestAuth, _, err = f.auth.PackOutgoing(message)
	must(b, err)
	// Both packets must round-trip before anything is timed.
	for _, request := range [][]byte{f.requestAnon, f.requestAuth} {
		data, _, _, err := f.server.UnpackIncoming(request)
		must(b, err)
		if !bytes.Equal(data, message) {
			b.Fatal("request did not round-trip")
		}
	}
	return f
}

// cpuNow is the process CPU time in nanoseconds (CLOCK_PROCESS_CPUTIME_ID,
// all threads, so GC work counts): robust to preemption on a loaded machine,
// unlike ns/op. Each benchmark reports it per operation as "cpu-ns/op".
func cpuNow() int64 {
	const clockProcessCPUTimeID = 2
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID,
		uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		panic(errno)
	}
	return ts.Nano()
}

// timed runs the b.N operations of a benchmark (after any setup) and
// reports their process CPU time per operation.
func timed(b *testing.B, body func()) {
	b.ResetTimer()
	start := cpuNow()
	body()
	b.StopTimer()
	b.ReportMetric(float64(cpuNow()-start)/float64(b.N), "cpu-ns/op")
}

func must(b *testing.B, err error) {
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkX25519Base(b *testing.B) {
	scalar := bytes.Repeat([]byte{3}, 32)
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			out, err := curve25519.X25519(scalar, curve25519.Basepoint)
			must(b, err)
			sink = out
		}
	})
}

func BenchmarkX25519Var(b *testing.B) {
	f := newFixture(b)
	scalar := bytes.Repeat([]byte{3}, 32)
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			out, err := curve25519.X25519(scalar, f.serverPub)
			must(b, err)
			sink = out
		}
	})
}

func benchPack(b *testing.B, auth bool) {
	f := newFixture(b)
	client := f.anon
	if auth {
		client = f.auth
	}
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			packet, _, err := client.PackOutgoing(message)
			must(b, err)
			sink = packet
		}
	})
}

func benchUnpack(b *testing.B, auth bool) {
	f := newFixture(b)
	request := f.requestAnon
	if auth {
		request = f.requestAuth
	}
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			data, _, _, err := f.server.UnpackIncoming(request)
			must(b, err)
			sink = data
		}
	})
}

func BenchmarkRequestPackAnon(b *testing.B)   { benchPack(b, false) }
func BenchmarkRequestPackAuth(b *testing.B)   { benchPack(b, true) }
func BenchmarkRequestUnpackAnon(b *testing.B) { benchUnpack(b, false) }
func BenchmarkRequestUnpackAuth(b *testing.B) { benchUnpack(b, true) }

// The reply benchmarks need a fresh handler per operation: they are made
// untimed, b.N at a time (run with -benchtime Nx to bound the setup).
func BenchmarkReplyPack(b *testing.B) {
	f := newFixture(b)
	handlers := make([]gopssst.ReplyHandler, b.N)
	for i := range handlers {
		_, handler, _, err := f.server.UnpackIncoming(f.requestAnon)
		must(b, err)
		handlers[i] = handler
	}
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			reply, err := handlers[i](message)
			must(b, err)
			sink = reply
		}
	})
}

func BenchmarkReplyUnpack(b *testing.B) {
	f := newFixture(b)
	handlers := make([]gopssst.ReplyHandler, b.N)
	replies := make([][]byte, b.N)
	for i := range handlers {
		request, handler, err := f.anon.PackOutgoing(message)
		must(b, err)
		_, serverHandler, _, err := f.server.UnpackIncoming(request)
		must(b, err)
		replies[i], err = serverHandler(message)
		must(b, err)
		handlers[i] = handler
	}
	timed(b, func() {
		for i := 0; i < b.N; i++ {
			data, err := handlers[i](replies[i])
			must(b, err)
			sink = data
		}
	})
}
