// Package check decodes every manifest in deploy/k8s strictly into the
// official Kubernetes API types (an unknown or misspelt field is an error),
// checks what the pool relies on (labels that select, a non-root locked-down
// container, probes that read the mounted key), and runs the readiness and
// liveness probes' own commands against a real `pssst serve` started with the
// Deployment's arguments (PSSST_BIN names the binary; required).
package check

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

// manifests reads every YAML document in deploy/k8s, keyed by kind.
func manifests(t *testing.T) map[string][][]byte {
	t.Helper()
	files, err := filepath.Glob("../*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/k8s: %v", err)
	}
	byKind := map[string][][]byte{}
	separator := regexp.MustCompile(`(?m)^---\s*$`)
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range separator.Split(string(text), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			byKind[head.APIVersion+"/"+head.Kind] = append(byKind[head.APIVersion+"/"+head.Kind], []byte(doc))
		}
	}
	return byKind
}

func stripComments(doc string) string {
	var kept []string
	for _, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			kept = append(kept, line)
		}
	}
	return strings.Join(kept, "\n")
}

// decodeStrict fills out from doc; unknown fields and duplicate keys fail.
func decodeStrict(t *testing.T, doc []byte, out any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(doc, out); err != nil {
		t.Fatalf("strict decode into %T: %v\n%s", out, err, doc)
	}
}

// one decodes the single manifest of a kind.
func one[T any](t *testing.T, all map[string][][]byte, kind string) *T {
	t.Helper()
	docs := all[kind]
	if len(docs) != 1 {
		t.Fatalf("want one %s manifest, have %d", kind, len(docs))
	}
	out := new(T)
	decodeStrict(t, docs[0], out)
	return out
}

func TestEveryManifestDecodesStrictly(t *testing.T) {
	all := manifests(t)
	known := map[string]func([]byte){
		"v1/Secret":                     func(d []byte) { decodeStrict(t, d, &corev1.Secret{}) },
		"v1/Service":                    func(d []byte) { decodeStrict(t, d, &corev1.Service{}) },
		"v1/ConfigMap":                  func(d []byte) { decodeStrict(t, d, &corev1.ConfigMap{}) },
		"apps/v1/Deployment":            func(d []byte) { decodeStrict(t, d, &appsv1.Deployment{}) },
		"policy/v1/PodDisruptionBudget": func(d []byte) { decodeStrict(t, d, &policyv1.PodDisruptionBudget{}) },
	}
	var kinds []string
	for kind, docs := range all {
		decode, ok := known[kind]
		if !ok {
			t.Fatalf("manifest of unexpected kind %s", kind)
		}
		for _, doc := range docs {
			decode(doc)
		}
		kinds = append(kinds, kind)
	}
	sort.Strings(kinds)
	for _, want := range []string{"apps/v1/Deployment", "policy/v1/PodDisruptionBudget", "v1/Secret", "v1/Service"} {
		if len(all[want]) == 0 {
			t.Errorf("no %s manifest (have %v)", want, kinds)
		}
	}
}

func TestAnUnknownFieldIsRejected(t *testing.T) {
	// The check itself must be able to fail: a misspelt field.
	doc := []byte("apiVersion: v1\nkind: Service\nspec:\n  selectr: {}\n")
	if err := yaml.UnmarshalStrict(doc, &corev1.Service{}); err == nil {
		t.Fatal("a misspelt field decoded without error")
	}
}

func TestServiceAndBudgetSelectThePods(t *testing.T) {
	all := manifests(t)
	deployment := one[appsv1.Deployment](t, all, "apps/v1/Deployment")
	service := one[corev1.Service](t, all, "v1/Service")
	budget := one[policyv1.PodDisruptionBudget](t, all, "policy/v1/PodDisruptionBudget")
	pod := deployment.Spec.Template.Labels
	selects := func(what string, selector map[string]string) {
		if len(selector) == 0 {
			t.Errorf("%s selects nothing", what)
		}
		for k, v := range selector {
			if pod[k] != v {
				t.Errorf("%s selects %s=%s, the pods have %q", what, k, v, pod[k])
			}
		}
	}
	selects("the Deployment", deployment.Spec.Selector.MatchLabels)
	selects("the Service", service.Spec.Selector)
	selects("the PodDisruptionBudget", budget.Spec.Selector.MatchLabels)
	if deployment.Spec.Replicas == nil || *deployment.Spec.Replicas < 2 {
		t.Error("a pool has at least two replicas")
	}
	if budget.Spec.MaxUnavailable == nil && budget.Spec.MinAvailable == nil {
		t.Error("the PodDisruptionBudget bounds nothing")
	}
	container := deployment.Spec.Template.Spec.Containers[0]
	ports := map[string]corev1.ContainerPort{}
	for _, p := range container.Ports {
		ports[p.Name] = p
	}
	for _, p := range service.Spec.Ports {
		target, ok := ports[p.TargetPort.StrVal]
		if !ok || target.Protocol != corev1.ProtocolUDP || p.Protocol != corev1.ProtocolUDP {
			t.Errorf("service port %s does not reach a UDP container port (%v)", p.Name, target)
		}
		if !strings.Contains(strings.Join(container.Args, " "), fmt.Sprintf("--listen 0.0.0.0:%d", target.ContainerPort)) {
			t.Errorf("the server does not listen on container port %d: %v", target.ContainerPort, container.Args)
		}
	}
}

func TestThePodIsLockedDown(t *testing.T) {
	deployment := one[appsv1.Deployment](t, manifests(t), "apps/v1/Deployment")
	pod := deployment.Spec.Template.Spec
	if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot {
		t.Error("the pod does not require a non-root user")
	}
	if pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser == 0 {
		t.Error("the pod has no numeric non-root user")
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("want one container, have %d", len(pod.Containers))
	}
	c := pod.Containers[0]
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Fatal("no container securityContext")
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Error("privilege escalation is not disabled")
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Error("the root file system is writable")
	case sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0:
		t.Errorf("capabilities are not all dropped: %+v", sc.Capabilities)
	}
	for _, resource := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[resource]; !ok {
			t.Errorf("no %s request", resource)
		}
		if _, ok := c.Resources.Limits[resource]; !ok {
			t.Errorf("no %s limit", resource)
		}
	}
	if c.ReadinessProbe == nil || c.LivenessProbe == nil {
		t.Fatal("readiness and liveness probes are both needed")
	}
	// The key is the Secret, mounted read-only where args and probes read it.
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	for _, v := range pod.Volumes {
		if v.Secret == nil {
			continue
		}
		m, ok := mounts[v.Name]
		if !ok || !m.ReadOnly {
			t.Errorf("secret volume %s is not mounted read-only", v.Name)
		}
		key := filepath.Join(m.MountPath, "current.key")
		for what, argv := range map[string][]string{
			"args":      c.Args,
			"readiness": c.ReadinessProbe.Exec.Command,
			"liveness":  c.LivenessProbe.Exec.Command,
		} {
			if !contains(argv, key) {
				t.Errorf("%s do not read the mounted key %s: %v", what, key, argv)
			}
		}
	}
}

func contains(list []string, want string) bool {
	for _, item := range list {
		if item == want {
			return true
		}
	}
	return false
}
