// Package healthcheck runs the project's health verdicts through the real libraries that Argo CD
// and Flux use, on ManagedConnector objects captured from end-to-end runs against a real API
// server (argocd/connectors.dataplane.dev/ManagedConnector/testdata, written by
// `kubectl get -o yaml`):
//
//   - TestArgoCDHealth runs that folder's health.lua in gopher-lua (the Lua 5.1 VM Argo CD embeds) with
//     NO standard library opened, so the script provably runs as a user-supplied script, and
//     checks its health_test.yaml exactly (status and message), in Argo CD's own layout.
//   - TestKstatus runs sigs.k8s.io/cli-utils/pkg/kstatus (what Flux's wait/healthChecks use) and
//     checks kstatus_test.yaml.
package healthcheck

import (
	"os"
	"path/filepath"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/yaml"
)

var argocdDir = filepath.Join("..", "..", "argocd", "connectors.dataplane.dev", "ManagedConnector")

type healthTests struct {
	Tests []struct {
		HealthStatus struct {
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"healthStatus"`
		InputPath string `json:"inputPath"`
	} `json:"tests"`
}

type kstatusTests struct {
	Tests []struct {
		Status    string `json:"status"`
		InputPath string `json:"inputPath"`
	} `json:"tests"`
}

func readYAML(t *testing.T, path string, into interface{}) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
}

// readObject decodes a captured object the way client-go does (integers stay int64).
func readObject(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(argocdDir, path))
	if err != nil {
		t.Fatal(err)
	}
	jsonData, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(jsonData); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return obj
}

// toLua converts decoded YAML/JSON the way Argo CD's lua package does: maps and lists become
// tables (lists 1-based), numbers become numbers.
func toLua(l *lua.LState, v interface{}) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case map[string]interface{}:
		t := l.NewTable()
		for k, item := range v {
			t.RawSetString(k, toLua(l, item))
		}
		return t
	case []interface{}:
		t := l.NewTable()
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	default:
		panic("unexpected value type")
	}
}

func runHealth(t *testing.T, script string, obj *unstructured.Unstructured) (string, string) {
	t.Helper()
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	l.SetGlobal("obj", toLua(l, obj.Object))
	if err := l.DoString(script); err != nil {
		t.Fatalf("health.lua failed: %v", err)
	}
	ret, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("health.lua returned %v, not a table", l.Get(-1))
	}
	return ret.RawGetString("status").String(), ret.RawGetString("message").String()
}

func TestArgoCDHealth(t *testing.T) {
	script, err := os.ReadFile(filepath.Join(argocdDir, "health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	var tests healthTests
	readYAML(t, filepath.Join(argocdDir, "health_test.yaml"), &tests)
	if len(tests.Tests) == 0 {
		t.Fatal("no tests in health_test.yaml")
	}
	for _, tc := range tests.Tests {
		tc := tc
		t.Run(tc.InputPath, func(t *testing.T) {
			gotStatus, gotMessage := runHealth(t, string(script), readObject(t, tc.InputPath))
			if gotStatus != tc.HealthStatus.Status || gotMessage != tc.HealthStatus.Message {
				t.Errorf("got %s %q, want %s %q", gotStatus, gotMessage, tc.HealthStatus.Status, tc.HealthStatus.Message)
			}
		})
	}
}

func TestKstatus(t *testing.T) {
	var tests kstatusTests
	readYAML(t, "kstatus_test.yaml", &tests)
	if len(tests.Tests) == 0 {
		t.Fatal("no tests in kstatus_test.yaml")
	}
	for _, tc := range tests.Tests {
		tc := tc
		t.Run(tc.InputPath, func(t *testing.T) {
			res, err := status.Compute(readObject(t, tc.InputPath))
			if err != nil {
				t.Fatalf("kstatus: %v", err)
			}
			if string(res.Status) != tc.Status {
				t.Errorf("kstatus %s (%s), want %s", res.Status, res.Message, tc.Status)
			}
		})
	}
}
