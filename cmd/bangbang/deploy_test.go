package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// commandFlags lists the flags `bangbang cmd -h` prints.
func commandFlags(t *testing.T, cmd string) map[string]bool {
	t.Helper()
	out, _ := exec.Command(binary, cmd, "-h").CombinedOutput() // -h exits non-zero
	flags := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`).FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if len(flags) == 0 {
		t.Fatalf("bangbang %s -h lists no flag:\n%s", cmd, out)
	}
	return flags
}

// checkInvocation fails the test when args (a bangbang command line) or env (the names of
// its variables) use a flag or a BANGBANG_* variable the command does not know: the
// process would refuse to start.
func checkInvocation(t *testing.T, where string, args, env []string, known map[string]map[string]bool) {
	t.Helper()
	if len(args) == 0 {
		t.Errorf("%s: no bangbang command", where)
		return
	}
	cmd := args[0]
	if known[cmd] == nil {
		known[cmd] = commandFlags(t, cmd)
	}
	for _, a := range args[1:] {
		if name, ok := strings.CutPrefix(a, "--"); ok && !known[cmd][strings.SplitN(name, "=", 2)[0]] {
			t.Errorf("%s: bangbang %s has no flag %s", where, cmd, a)
		}
	}
	for _, v := range env {
		name, ok := strings.CutPrefix(v, "BANGBANG_")
		if !ok || v == "BANGBANG_ADMIN_KEY" {
			continue
		}
		if !known[cmd][strings.ReplaceAll(strings.ToLower(name), "_", "-")] {
			t.Errorf("%s: bangbang %s would refuse the variable %s", where, cmd, v)
		}
	}
}

func readYAMLDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []map[string]any
	dec := yaml.NewDecoder(f)
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			if err.Error() == "EOF" {
				return docs
			}
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, d)
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range asList(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// The compose file's bangbang services start: every flag and BANGBANG_* variable they are
// given is one their command knows.
func TestComposeFileInvocations(t *testing.T) {
	doc := readYAMLDocs(t, "../../deploy/docker-compose.yml")[0]
	known := map[string]map[string]bool{}
	services := asMap(doc["services"])
	var bangbang []string
	for name, svc := range services {
		s := asMap(svc)
		if s["image"] != "bangbang:local" {
			continue
		}
		bangbang = append(bangbang, name)
		var env []string
		for k := range asMap(s["environment"]) {
			env = append(env, k)
		}
		checkInvocation(t, "docker-compose.yml "+name, strs(s["command"]), env, known)
	}
	slices.Sort(bangbang)
	want := []string{"admin", "campaign", "edge", "gateway-1", "gateway-2", "logic-1", "logic-2", "sim"}
	if !slices.Equal(bangbang, want) {
		t.Errorf("bangbang services %v, want %v", bangbang, want)
	}
}

// The Kubernetes manifests' bangbang containers start: their args and the BANGBANG_*
// variables they get (directly, or from the ConfigMap and Secret they load) are known to
// their command.
func TestKubernetesManifestInvocations(t *testing.T) {
	files, err := filepath.Glob("../../deploy/k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	var docs []map[string]any
	for _, f := range files {
		docs = append(docs, readYAMLDocs(t, f)...)
	}
	keysOf := map[string][]string{} // "ConfigMap/bangbang" -> its keys
	for _, d := range docs {
		if k := d["kind"]; k == "ConfigMap" || k == "Secret" {
			m := asMap(d["data"])
			if m == nil {
				m = asMap(d["stringData"])
			}
			for key := range m {
				keysOf[k.(string)+"/"+asMap(d["metadata"])["name"].(string)] = append(keysOf[k.(string)+"/"+asMap(d["metadata"])["name"].(string)], key)
			}
		}
	}
	known := map[string]map[string]bool{}
	var commands []string
	for _, d := range docs {
		if k := d["kind"]; k != "Deployment" && k != "StatefulSet" {
			continue
		}
		pod := asMap(asMap(asMap(d["spec"])["template"])["spec"])
		for _, c := range asList(pod["containers"]) {
			cm := asMap(c)
			if cm["image"] != "bangbang:local" {
				continue
			}
			var env []string
			for _, e := range asList(cm["env"]) {
				env = append(env, asMap(e)["name"].(string))
			}
			for _, from := range asList(cm["envFrom"]) {
				if r := asMap(asMap(from)["configMapRef"]); r != nil {
					env = append(env, keysOf["ConfigMap/"+r["name"].(string)]...)
				}
				if r := asMap(asMap(from)["secretRef"]); r != nil {
					env = append(env, keysOf["Secret/"+r["name"].(string)]...)
				}
			}
			args := strs(cm["args"])
			commands = append(commands, args[0])
			checkInvocation(t, "k8s "+asMap(d["metadata"])["name"].(string), args, env, known)
		}
	}
	slices.Sort(commands)
	if want := []string{"admin", "campaign", "edge", "gateway", "logic", "sim"}; !slices.Equal(commands, want) {
		t.Errorf("bangbang containers run %v, want %v", commands, want)
	}
}
