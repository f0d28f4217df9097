package check

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// render builds one kustomization with kustomize's own engine (krusty, what
// `kustomize build` and `kubectl apply -k` run) and decodes every object
// strictly into its Kubernetes API type: an unknown or duplicated field is
// an error, as `kubectl apply --validate=strict` would make it.
func render(t *testing.T, dir string) []runtime.Object {
	t.Helper()
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	rm, err := k.Run(filesys.MakeFsOnDisk(), dir)
	require.NoError(t, err, "kustomize build %s", dir)
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, autoscalingv2.AddToScheme} {
		require.NoError(t, add(scheme))
	}
	dec := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	var out []runtime.Object
	for _, r := range rm.Resources() {
		y, err := r.AsYAML()
		require.NoError(t, err)
		obj, _, err := dec.Decode(y, nil, nil)
		require.NoError(t, err, "%s/%s decodes strictly:\n%s", r.GetKind(), r.GetName(), y)
		out = append(out, obj)
	}
	require.NotEmpty(t, out)
	return out
}

// probePorts: the variable whose address serves /healthz and /readyz, per
// process (the api's are on API_ADDR, the edge's and worker's on their
// admin addresses).
var probeAddr = map[string]string{"api": "API_ADDR", "edge": "EDGE_ADMIN_ADDR", "worker": "WORKER_ADDR", "web": "WEB_ADDR"}

// TestKubernetes renders the base and the production overlay and checks
// the invariants of every Deployment: probes on the real endpoints and
// ports, resources, non-root with a read-only root file system, a PDB, a
// pinned image, variables the process reads, and for the edge a grace
// period that covers its drain.
func TestKubernetes(t *testing.T) {
	t.Parallel()
	settings := processSettings(t)
	web := webSettings(t)
	for _, dir := range []string{"base", "overlays/production"} {
		t.Run(strings.ReplaceAll(dir, "/", "_"), func(t *testing.T) {
			t.Parallel()
			objs := render(t, filepath.Join(repoRoot(t), "deploy/k8s", dir))
			var deps []*appsv1.Deployment
			var pdbs []*policyv1.PodDisruptionBudget
			hpas := map[string]*autoscalingv2.HorizontalPodAutoscaler{}
			services := map[string]*corev1.Service{}
			configmaps := map[string]*corev1.ConfigMap{}
			for _, o := range objs {
				switch v := o.(type) {
				case *appsv1.Deployment:
					deps = append(deps, v)
				case *policyv1.PodDisruptionBudget:
					pdbs = append(pdbs, v)
				case *autoscalingv2.HorizontalPodAutoscaler:
					hpas[v.Spec.ScaleTargetRef.Name] = v
				case *corev1.Service:
					services[v.Name] = v
				case *corev1.ConfigMap:
					configmaps[v.Name] = v
				}
			}
			names := map[string]bool{}
			for _, d := range deps {
				names[d.Name] = true
				checkDeployment(t, d, pdbs, configmaps, settings, web)
			}
			require.Equal(t, map[string]bool{"api": true, "edge": true, "worker": true, "web": true}, names)
			for _, s := range []string{"api", "edge", "web"} {
				require.Contains(t, services, s, "Service %s", s)
			}
			require.Contains(t, hpas, "api")
			require.Equal(t, autoscalingv2.ResourceMetricSourceType, hpas["api"].Spec.Metrics[0].Type)
			require.Equal(t, corev1.ResourceCPU, hpas["api"].Spec.Metrics[0].Resource.Name)
			require.Contains(t, hpas, "edge")
			require.Equal(t, autoscalingv2.PodsMetricSourceType, hpas["edge"].Spec.Metrics[0].Type)
			require.Equal(t, "chatterly_edge_sockets_open", hpas["edge"].Spec.Metrics[0].Pods.Metric.Name, "the edge's socket gauge")
		})
	}
}

func checkDeployment(t *testing.T, d *appsv1.Deployment, pdbs []*policyv1.PodDisruptionBudget,
	configmaps map[string]*corev1.ConfigMap, settings map[string]map[string]setting, web map[string]bool) {
	t.Helper()
	pod := d.Spec.Template.Spec
	podLabels := labels.Set(d.Spec.Template.Labels)
	covered := false
	for _, p := range pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		require.NoError(t, err)
		covered = covered || sel.Matches(podLabels)
	}
	require.True(t, covered, "%s: a PodDisruptionBudget selects its pods", d.Name)
	require.NotNil(t, pod.SecurityContext)
	require.True(t, pod.SecurityContext.RunAsNonRoot != nil && *pod.SecurityContext.RunAsNonRoot, "%s: runAsNonRoot", d.Name)
	require.NotNil(t, pod.SecurityContext.RunAsUser)
	require.NotZero(t, *pod.SecurityContext.RunAsUser, "%s: a non-root uid", d.Name)
	require.Len(t, pod.Containers, 1, d.Name)
	c := pod.Containers[0]

	image, tag, ok := strings.Cut(c.Image, ":")
	require.True(t, ok && tag != "" && tag != "latest", "%s: image %q pinned to a tag", d.Name, c.Image)
	require.True(t, strings.HasSuffix(image, "chatterly-"+d.Name), "%s runs chatterly-%s", d.Name, d.Name)

	sc := c.SecurityContext
	require.NotNil(t, sc)
	require.True(t, sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "%s: read-only root", d.Name)
	require.True(t, sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "%s: no privilege escalation", d.Name)
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
		require.False(t, req.IsZero(), "%s: requests %s", d.Name, r)
		require.False(t, lim.IsZero(), "%s: limits %s", d.Name, r)
	}

	// Every variable is one the process reads, from env or a ConfigMap.
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			cm, ok := configmaps[ef.ConfigMapRef.Name]
			require.True(t, ok, "%s: ConfigMap %s exists", d.Name, ef.ConfigMapRef.Name)
			for k, v := range cm.Data {
				env[k] = v
			}
		}
	}
	for name := range env {
		if d.Name == "web" {
			require.True(t, web[name], "web sets %s, which it does not read", name)
		} else {
			_, ok := settings[d.Name][name]
			require.True(t, ok, "%s sets %s, which chatterly-%s does not read", d.Name, name, d.Name)
		}
	}

	// Probes: /healthz and /readyz on the port that serves them.
	addr := env[probeAddr[d.Name]]
	require.NotEmpty(t, addr, "%s sets %s", d.Name, probeAddr[d.Name])
	want, err := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	require.NoError(t, err)
	for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
		require.NotNil(t, p, "%s: liveness and readiness probes", d.Name)
		require.NotNil(t, p.HTTPGet, d.Name)
		require.Equal(t, want, containerPort(t, c, p.HTTPGet.Port.String()), "%s: probe on %s's port", d.Name, probeAddr[d.Name])
	}
	if d.Name != "web" {
		require.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path, d.Name)
		require.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path, d.Name)
	}

	if d.Name == "edge" {
		window, err := time.ParseDuration(env["EDGE_SHUTDOWN_WINDOW"])
		require.NoError(t, err)
		timeout, err := time.ParseDuration(env["EDGE_SHUTDOWN_TIMEOUT"])
		require.NoError(t, err)
		require.NotNil(t, c.Lifecycle, "edge: a preStop hook")
		require.NotNil(t, c.Lifecycle.PreStop.Sleep, "edge: preStop sleeps (no shell in the image)")
		preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
		require.NotNil(t, pod.TerminationGracePeriodSeconds)
		grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
		require.GreaterOrEqual(t, grace, preStop+window+timeout+5*time.Second,
			"edge: terminationGracePeriodSeconds >= preStop + EDGE_SHUTDOWN_WINDOW + EDGE_SHUTDOWN_TIMEOUT + 5 s margin")
	}
}

// containerPort resolves a probe's port (a name or a number) in c.
func containerPort(t *testing.T, c corev1.Container, port string) int {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == port || strconv.Itoa(int(p.ContainerPort)) == port {
			return int(p.ContainerPort)
		}
	}
	require.Failf(t, "probe port", "%s: no container port %s", c.Name, port)
	return 0
}
