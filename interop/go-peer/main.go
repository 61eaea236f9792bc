// Interop peer backed by gopssst (the Go reference implementation), speaking
// the interop line protocol on stdin/stdout. See interop/README.md.
//
// Usage: go-peer            (peer mode)
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/nickovs/gopssst"
)

const suite = gopssst.CipherSuiteX25519AESGCM

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go-peer (gopssst): FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func emit(tag string, value []byte) {
	// os.Stdout is unbuffered: one write per line, nothing left to flush.
	if _, err := fmt.Fprintf(os.Stdout, "%s:%s\n", tag, hex.EncodeToString(value)); err != nil {
		fail("writing %s: %v", tag, err)
	}
}

func reversed(b []byte) []byte {
	r := make([]byte, len(b))
	for i := range b {
		r[len(b)-1-i] = b[i]
	}
	return r
}

func asBytes(v interface{}) []byte {
	if v == nil {
		return nil
	}
	b, ok := v.([]byte)
	if !ok {
		fail("gopssst returned a key of unexpected type %T", v)
	}
	return b
}

// unpack runs the server side, turning a gopssst panic (it slices short
// packets without checking) into a failure message.
func unpack(server gopssst.Server, packet []byte) (data []byte, handler gopssst.ReplyHandler, client []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("gopssst panicked: %v", r)
		}
	}()
	var key interface{}
	data, handler, key, err = server.UnpackIncoming(packet)
	if err == nil {
		client = asBytes(key)
	}
	return
}

type peer struct {
	server     gopssst.Server
	clientPriv []byte
	plaintext  []byte

	peerPlain     []byte
	peerClientKey []byte
	pending       map[string][]byte // REQUEST / REQUEST_AUTH packets waiting for PLAINTEXT / CLIENT_KEY
	handlers      map[string]gopssst.ReplyHandler
	seen          map[string]bool
	served        int
	verified      int
	sentDone      bool
	peerDone      bool
}

func (p *peer) serve(tag string, packet []byte) {
	data, handler, client, err := unpack(p.server, packet)
	if err != nil {
		fail("%s: server could not unpack the request: %v", tag, err)
	}
	if !bytes.Equal(data, p.peerPlain) {
		fail("%s: plaintext %x differs from the other side's PLAINTEXT %x", tag, data, p.peerPlain)
	}
	if tag == "REQUEST_AUTH" {
		if client == nil {
			fail("REQUEST_AUTH: no authenticated client key")
		}
		if !bytes.Equal(client, p.peerClientKey) {
			fail("REQUEST_AUTH: authenticated client key %x differs from the other side's CLIENT_KEY %x", client, p.peerClientKey)
		}
	} else if client != nil {
		fail("REQUEST: anonymous request unpacked with a client key %x", client)
	}
	reply, err := handler(reversed(data))
	if err != nil {
		fail("%s: packing the reply: %v", tag, err)
	}
	if tag == "REQUEST_AUTH" {
		emit("REPLY_AUTH", reply)
	} else {
		emit("REPLY", reply)
	}
	p.served++
}

func (p *peer) processPending() {
	if p.peerPlain == nil {
		return
	}
	if pkt, ok := p.pending["REQUEST"]; ok {
		delete(p.pending, "REQUEST")
		p.serve("REQUEST", pkt)
	}
	if pkt, ok := p.pending["REQUEST_AUTH"]; ok && p.peerClientKey != nil {
		delete(p.pending, "REQUEST_AUTH")
		p.serve("REQUEST_AUTH", pkt)
	}
}

func (p *peer) handle(line string) {
	colon := strings.IndexByte(line, ':')
	if colon < 0 {
		fail("malformed line %q", line)
	}
	tag, hexValue := line[:colon], line[colon+1:]
	value, err := hex.DecodeString(hexValue)
	if err != nil {
		fail("%s: bad hex: %v", tag, err)
	}
	if p.seen[tag] {
		fail("duplicate %s line", tag)
	}
	p.seen[tag] = true

	switch tag {
	case "SERVER_KEY":
		if len(value) != 32 {
			fail("SERVER_KEY is %d bytes, want 32", len(value))
		}
		for _, mode := range []struct {
			request, reply string
			clientPriv     interface{}
		}{{"REQUEST", "REPLY", nil}, {"REQUEST_AUTH", "REPLY_AUTH", p.clientPriv}} {
			client, err := gopssst.NewClient(suite, value, mode.clientPriv)
			if err != nil {
				fail("NewClient for %s: %v", mode.request, err)
			}
			packet, handler, err := client.PackOutgoing(p.plaintext)
			if err != nil {
				fail("PackOutgoing for %s: %v", mode.request, err)
			}
			p.handlers[mode.reply] = handler
			emit(mode.request, packet)
		}
	case "CLIENT_KEY":
		if len(value) != 32 {
			fail("CLIENT_KEY is %d bytes, want 32", len(value))
		}
		p.peerClientKey = value
	case "PLAINTEXT":
		p.peerPlain = value
	case "REQUEST", "REQUEST_AUTH":
		p.pending[tag] = value
	case "REPLY", "REPLY_AUTH":
		handler, ok := p.handlers[tag]
		if !ok {
			fail("%s before this side sent its request", tag)
		}
		data, err := func() (d []byte, e error) {
			defer func() {
				if r := recover(); r != nil {
					e = fmt.Errorf("gopssst panicked: %v", r)
				}
			}()
			return handler(value)
		}()
		if err != nil {
			fail("%s: client could not unpack the reply: %v", tag, err)
		}
		if want := reversed(p.plaintext); !bytes.Equal(data, want) {
			fail("%s: reply %x is not the reversed plaintext %x", tag, data, want)
		}
		p.verified++
	case "DONE":
		if len(value) != 0 {
			fail("DONE carries data %x", value)
		}
		p.peerDone = true
	default:
		fail("unknown tag %q", tag)
	}
	p.processPending()
	if p.verified == 2 && !p.sentDone {
		emit("DONE", nil)
		p.sentDone = true
	}
}

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: go-peer   (speaks the interop line protocol on stdin/stdout)")
		os.Exit(2)
	}
	serverPriv, serverPub, err := gopssst.GenerateKeyPair(suite, nil)
	if err != nil {
		fail("GenerateKeyPair: %v", err)
	}
	clientPriv, clientPub, err := gopssst.GenerateKeyPair(suite, nil)
	if err != nil {
		fail("GenerateKeyPair: %v", err)
	}
	server, err := gopssst.NewServer(suite, serverPriv)
	if err != nil {
		fail("NewServer: %v", err)
	}
	plaintext := make([]byte, 64)
	if _, err := rand.Read(plaintext); err != nil {
		fail("random: %v", err)
	}
	p := &peer{
		server:     server,
		clientPriv: asBytes(clientPriv),
		plaintext:  plaintext,
		pending:    map[string][]byte{},
		handlers:   map[string]gopssst.ReplyHandler{},
		seen:       map[string]bool{},
	}
	emit("SERVER_KEY", asBytes(serverPub))
	emit("CLIENT_KEY", asBytes(clientPub))
	emit("PLAINTEXT", plaintext)

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for in.Scan() {
		line := strings.TrimRight(in.Text(), "\r")
		if line == "" {
			continue
		}
		p.handle(line)
		if p.sentDone && p.peerDone && p.served == 2 {
			os.Exit(0)
		}
	}
	if err := in.Err(); err != nil {
		fail("reading stdin: %v", err)
	}
	fail("stdin closed before the exchange finished (served %d/2 requests, verified %d/2 replies, sent DONE %v, got DONE %v)",
		p.served, p.verified, p.sentDone, p.peerDone)
}
