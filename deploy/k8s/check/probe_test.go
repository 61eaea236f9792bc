package check

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// pod is the Deployment's container replayed on this host: its mounts
// become directories under a temporary root, its UDP port a free one, its
// metrics address a free one on loopback.
type pod struct {
	t         *testing.T
	bin       string
	container corev1.Container
	root      string
	keyDir    string
	port      int
}

func newPod(t *testing.T) *pod {
	t.Helper()
	bin := os.Getenv("PSSST_BIN")
	if bin == "" {
		t.Fatal("PSSST_BIN must name the pssst binary (the probes run it)")
	}
	deployment := one[appsv1.Deployment](t, manifests(t), "apps/v1/Deployment")
	p := &pod{t: t, bin: bin, container: deployment.Spec.Template.Spec.Containers[0], root: t.TempDir()}
	for _, m := range p.container.VolumeMounts {
		if err := os.MkdirAll(p.host(m.MountPath), 0o755); err != nil {
			t.Fatal(err)
		}
		p.keyDir = p.host(m.MountPath)
	}
	p.port = freeUDPPort(t)
	return p
}

// host maps a path inside the pod to the temporary root.
func (p *pod) host(path string) string { return filepath.Join(p.root, path) }

// argv rewrites one command line of the pod for this host.
func (p *pod) argv(args []string) []string {
	var out []string
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "/etc/"):
			a = p.host(a)
		case strings.HasSuffix(a, ":7777"):
			a = fmt.Sprintf("127.0.0.1:%d", p.port)
		case i > 0 && args[i-1] == "--metrics":
			a = "127.0.0.1:0"
		}
		out = append(out, a)
	}
	return out
}

// probe runs an exec probe's command (its argv[0] is the image's /pssst).
func (p *pod) probe(which string, probe *corev1.Probe) (string, error) {
	argv := p.argv(probe.Exec.Command)
	if argv[0] != "/pssst" {
		p.t.Fatalf("%s probe runs %s, not the image's /pssst", which, argv[0])
	}
	cmd := exec.Command(p.bin, argv[1:]...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// serve starts the container's args; it stops when the test ends.
func (p *pod) serve() *exec.Cmd {
	cmd := exec.Command(p.bin, p.argv(p.container.Args)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).Port
}

// keygen makes every key file the container's args name.
func (p *pod) keygen() {
	args := p.argv(p.container.Args)
	for i := range args[1:] {
		if args[i] != "--key" {
			continue
		}
		out, err := exec.Command(p.bin, "keygen", args[i+1]).CombinedOutput()
		if err != nil {
			p.t.Fatalf("keygen: %v: %s", err, out)
		}
	}
}

// waitReady runs the readiness probe every 100 ms for up to 20 s, as the
// kubelet would (more often).
func (p *pod) waitReady() {
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := p.probe("readiness", p.container.ReadinessProbe)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("never ready within 20 s: %v: %s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestProbesPassOnlyWhileThePodAnswersPSSST(t *testing.T) {
	p := newPod(t)
	p.keygen()
	if out, err := p.probe("readiness", p.container.ReadinessProbe); err == nil {
		t.Fatalf("ready with no server running: %s", out)
	}
	cmd := p.serve()
	p.waitReady()
	if out, err := p.probe("liveness", p.container.LivenessProbe); err != nil {
		t.Fatalf("liveness failed on a serving pod: %v: %s", err, out)
	}
	// Stopped (a hung process): no longer ready nor live.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if out, err := p.probe("readiness", p.container.ReadinessProbe); err == nil {
		t.Fatalf("ready after the server stopped: %s", out)
	}
}

func TestProbesFailForAServerOfAnotherKey(t *testing.T) {
	// A server answering to a key that is not the mounted one does not count.
	p := newPod(t)
	p.keygen()
	other := filepath.Join(t.TempDir(), "other.key")
	if out, err := exec.Command(p.bin, "keygen", other).CombinedOutput(); err != nil {
		t.Fatalf("keygen: %v: %s", err, out)
	}
	cmd := exec.Command(p.bin, "serve", "--key", other, "--listen", fmt.Sprintf("127.0.0.1:%d", p.port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	time.Sleep(500 * time.Millisecond)
	if out, err := p.probe("readiness", p.container.ReadinessProbe); err == nil {
		t.Fatalf("ready while another key answers: %s", out)
	}
}

func TestAMissingOrUnreadableKeyIsOneErrorAndNeverReady(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(p *pod)
	}{
		{"missing", func(p *pod) {}},
		{"unreadable", func(p *pod) {
			// A directory where the file should be: unreadable even by root.
			if err := os.Mkdir(filepath.Join(p.keyDir, "current.key"), 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"not a key", func(p *pod) {
			if err := os.WriteFile(filepath.Join(p.keyDir, "current.key"), []byte("placeholder\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPod(t)
			p.t = t
			c.setup(p)
			cmd := exec.Command(p.bin, p.argv(p.container.Args)...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("serve exited 0")
				}
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatal("serve did not exit within 20 s")
			}
			lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "error: ") || !strings.Contains(lines[0], "current.key") {
				t.Fatalf("want one error line naming current.key, have %q", stderr.String())
			}
			if out, err := p.probe("readiness", p.container.ReadinessProbe); err == nil {
				t.Fatalf("ready without a key: %s", out)
			}
		})
	}
}
