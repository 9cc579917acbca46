package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// exampleFile is shoal.example.toml at the root of the repository.
const exampleFile = "../../shoal.example.toml"

// TestExampleFile checks that the example configuration loads cleanly, sets
// every key to its default, and names every key's environment variable.
func TestExampleFile(t *testing.T) {
	c, warnings, err := env{}.load(t, exampleFile)
	if err != nil {
		t.Fatalf("%s does not load: %v", exampleFile, err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("%s does not give the defaults:\n got %v\nwant %v", exampleFile, c, Default())
	}

	text, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	var decoded Config
	md, err := toml.Decode(string(text), &decoded)
	if err != nil {
		t.Fatal(err)
	}
	if u := md.Undecoded(); len(u) != 0 {
		t.Errorf("%s has unknown keys %v", exampleFile, u)
	}
	for _, k := range Keys() {
		if !md.IsDefined(strings.Split(k.Name, ".")...) {
			t.Errorf("%s does not set key %s (set it to its default, %q, with a comment saying what it means)", exampleFile, k.Name, k.Default)
		}
		if !strings.Contains(string(text), k.Env) {
			t.Errorf("%s does not mention %s, the variable of %s", exampleFile, k.Env, k.Name)
		}
	}
}
