// Cross-checks the test vectors (tests/vectors) through gopssst (the Go reference):
//
//   - every known-answer case: the server unpacks request_packet to
//     request_plaintext (with client_public for auth cases, none otherwise)
//     and its reply handler re-creates reply_packet byte for byte; a client
//     fed ephemeral_rng_bytes as its randomness re-creates request_packet byte
//     for byte and its reply handler unpacks reply_packet to reply_plaintext;
//   - every reject case: UnpackIncoming must not accept the packet. An error
//     return is a rejection; a panic counts as a rejection only because it is
//     recovered here, and is listed. Each outcome is compared with what the
//     vector file says gopssst did ("observed").
//
// Usage: go-vectors [VECTORS_DIR]   (exit 0 only if every check passes)
//
// VECTORS_DIR defaults to tests/vectors of the repository the command runs
// in (found from the working directory upwards).
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nickovs/gopssst"
)

type katCase struct {
	ID                string  `json:"id"`
	Suite             int     `json:"suite"`
	ClientAuth        bool    `json:"client_auth"`
	ServerPrivate     string  `json:"server_private"`
	ServerPublic      string  `json:"server_public"`
	ClientPrivate     *string `json:"client_private"`
	ClientPublic      *string `json:"client_public"`
	EphemeralRNGBytes string  `json:"ephemeral_rng_bytes"`
	RequestPlaintext  string  `json:"request_plaintext"`
	RequestPacket     string  `json:"request_packet"`
	ReplyPlaintext    string  `json:"reply_plaintext"`
	ReplyPacket       string  `json:"reply_packet"`
}

type rejectCase struct {
	ID              string `json:"id"`
	ExpectedFailure string `json:"expected_failure"`
	ServerPrivate   string `json:"server_private"`
	PacketLen       int    `json:"packet_len"`
	RequestPacket   string `json:"request_packet"`
	Observed        map[string]json.RawMessage
}

type observation struct {
	Result string `json:"result"`
	Detail string `json:"detail"`
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("bad hex in vectors: %v", err))
	}
	return b
}

func load(path string, into interface{}) {
	raw, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-vectors: %v\n", err)
		os.Exit(2)
	}
	var doc struct {
		Cases json.RawMessage `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		fmt.Fprintf(os.Stderr, "go-vectors: %s: %v\n", path, err)
		os.Exit(2)
	}
	if err := json.Unmarshal(doc.Cases, into); err != nil {
		fmt.Fprintf(os.Stderr, "go-vectors: %s cases: %v\n", path, err)
		os.Exit(2)
	}
}

// defaultVectorsDir is tests/vectors in the working directory or the nearest
// parent that has one: the repository's own copy.
func defaultVectorsDir() string {
	dir, err := os.Getwd()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go-vectors: %v\n", err)
		os.Exit(2)
	}
	for {
		candidate := filepath.Join(dir, "tests", "vectors")
		if _, err := os.Stat(filepath.Join(candidate, "suite1-kat.json")); err == nil {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			fmt.Fprintln(os.Stderr, "go-vectors: no tests/vectors/suite1-kat.json here or above; give VECTORS_DIR")
			os.Exit(2)
		}
		dir = parent
	}
}

// guarded runs f, turning a panic into an error that says so.
func guarded(f func() error) (err error, panicked bool) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
			panicked = true
		}
	}()
	return f(), false
}

func keyBytes(k interface{}) []byte {
	if k == nil {
		return nil
	}
	b, _ := k.([]byte)
	return b
}

func checkKAT(c katCase) error {
	if c.Suite != gopssst.CipherSuiteX25519AESGCM {
		return fmt.Errorf("suite %d is not suite 1", c.Suite)
	}
	server, err := gopssst.NewServer(c.Suite, mustHex(c.ServerPrivate))
	if err != nil {
		return fmt.Errorf("NewServer: %v", err)
	}
	pub, err := server.GetServerPublicKey()
	if err != nil || !bytes.Equal(keyBytes(pub), mustHex(c.ServerPublic)) {
		return fmt.Errorf("server public key %x != server_public (%v)", keyBytes(pub), err)
	}

	// Server side.
	data, handler, clientKey, err := server.UnpackIncoming(mustHex(c.RequestPacket))
	if err != nil {
		return fmt.Errorf("UnpackIncoming: %v", err)
	}
	if !bytes.Equal(data, mustHex(c.RequestPlaintext)) {
		return fmt.Errorf("unpacked plaintext %x != request_plaintext", data)
	}
	if c.ClientAuth {
		if c.ClientPublic == nil || !bytes.Equal(keyBytes(clientKey), mustHex(*c.ClientPublic)) {
			return fmt.Errorf("authenticated client key %x != client_public", keyBytes(clientKey))
		}
	} else if clientKey != nil {
		return fmt.Errorf("anonymous request unpacked with client key %x", keyBytes(clientKey))
	}
	reply, err := handler(mustHex(c.ReplyPlaintext))
	if err != nil {
		return fmt.Errorf("server reply handler: %v", err)
	}
	if !bytes.Equal(reply, mustHex(c.ReplyPacket)) {
		return fmt.Errorf("re-created reply %x != reply_packet", reply)
	}

	// Client side, with the recorded RNG output as crypto/rand (gopssst reads
	// rand.Reader for its ephemeral scalar).
	var clientPriv interface{}
	if c.ClientAuth {
		if c.ClientPrivate == nil {
			return fmt.Errorf("auth case without client_private")
		}
		clientPriv = mustHex(*c.ClientPrivate)
	}
	client, err := gopssst.NewClient(c.Suite, mustHex(c.ServerPublic), clientPriv)
	if err != nil {
		return fmt.Errorf("NewClient: %v", err)
	}
	saved := rand.Reader
	rng := bytes.NewReader(mustHex(c.EphemeralRNGBytes))
	rand.Reader = rng
	packet, replyHandler, err := client.PackOutgoing(mustHex(c.RequestPlaintext))
	rand.Reader = saved
	if err != nil {
		return fmt.Errorf("PackOutgoing: %v", err)
	}
	if rng.Len() != 0 {
		return fmt.Errorf("PackOutgoing read %d of the %d ephemeral RNG bytes", 32-rng.Len(), 32)
	}
	if !bytes.Equal(packet, mustHex(c.RequestPacket)) {
		return fmt.Errorf("re-created request %x != request_packet", packet)
	}
	got, err := replyHandler(mustHex(c.ReplyPacket))
	if err != nil {
		return fmt.Errorf("client reply handler: %v", err)
	}
	if !bytes.Equal(got, mustHex(c.ReplyPlaintext)) {
		return fmt.Errorf("client unpacked reply %x != reply_plaintext", got)
	}
	return nil
}

func main() {
	var dir string
	switch len(os.Args) {
	case 1:
		dir = defaultVectorsDir()
	case 2:
		dir = os.Args[1]
	default:
		fmt.Fprintln(os.Stderr, "usage: go-vectors [VECTORS_DIR]")
		os.Exit(2)
	}
	var kats []katCase
	var rejects []rejectCase
	load(filepath.Join(dir, "suite1-kat.json"), &kats)
	load(filepath.Join(dir, "suite1-reject.json"), &rejects)

	failures := 0
	fmt.Printf("gopssst v0.2.2: %d known-answer cases\n", len(kats))
	for _, c := range kats {
		err, panicked := guarded(func() error { return checkKAT(c) })
		switch {
		case panicked:
			failures++
			fmt.Printf("  FAIL %-24s gopssst panicked: %v\n", c.ID, err)
		case err != nil:
			failures++
			fmt.Printf("  FAIL %-24s %v\n", c.ID, err)
		default:
			fmt.Printf("  ok   %-24s request, reply and plaintexts byte for byte\n", c.ID)
		}
	}

	fmt.Printf("gopssst v0.2.2: %d reject cases\n", len(rejects))
	var panics []string
	errorsReturned, accepted, observedMismatch := 0, 0, 0
	for _, c := range rejects {
		packet := mustHex(c.RequestPacket)
		if len(packet) != c.PacketLen {
			failures++
			fmt.Printf("  FAIL %-24s packet is %d bytes, packet_len says %d\n", c.ID, len(packet), c.PacketLen)
			continue
		}
		server, err := gopssst.NewServer(gopssst.CipherSuiteX25519AESGCM, mustHex(c.ServerPrivate))
		if err != nil {
			failures++
			fmt.Printf("  FAIL %-24s NewServer: %v\n", c.ID, err)
			continue
		}
		var data []byte
		err, panicked := guarded(func() error {
			var e error
			data, _, _, e = server.UnpackIncoming(packet)
			return e
		})
		var outcome, result string
		switch {
		case panicked:
			panics = append(panics, c.ID)
			outcome = "rejected only by recovering a panic: " + err.Error()
			result = "panic"
		case err != nil:
			errorsReturned++
			outcome = "rejected (error returned): " + err.Error()
			result = "error"
		default:
			failures++
			accepted++
			fmt.Printf("  FAIL %-24s ACCEPTED (%d plaintext bytes); expected %s\n", c.ID, len(data), c.ExpectedFailure)
			continue
		}
		var obs observation
		note := ""
		if raw, ok := c.Observed["gopssst"]; ok && json.Unmarshal(raw, &obs) == nil {
			recorded := "error"
			if strings.Contains(obs.Result, "panic") {
				recorded = "panic"
			}
			if recorded != result {
				observedMismatch++
				note = fmt.Sprintf("  [vector file says: %s: %s]", obs.Result, obs.Detail)
			}
		}
		fmt.Printf("  ok   %-24s %s%s\n", c.ID, outcome, note)
	}
	if observedMismatch > 0 {
		// The vectors' "observed" record must describe what the reference does.
		failures += observedMismatch
		fmt.Printf("FAIL: %d reject case(s) where gopssst's outcome differs from the vector file's 'observed' record\n", observedMismatch)
	}
	fmt.Printf("gopssst reject summary: %d error returned, %d panicked (recovered) %v, %d accepted\n",
		errorsReturned, len(panics), panics, accepted)
	if failures > 0 {
		fmt.Printf("gopssst vectors: FAIL (%d problem(s))\n", failures)
		os.Exit(1)
	}
	fmt.Printf("gopssst vectors: PASS (%d known-answer, %d rejected)\n", len(kats), len(rejects))
}
