package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Key describes one configuration key.
type Key struct {
	// Name is the key's dotted path in the file, e.g. "storage.s3.endpoint".
	Name string
	// Env is the environment variable that overrides it,
	// e.g. "SHOAL_STORAGE_S3_ENDPOINT".
	Env string
	// Doc says what the key means.
	Doc string
	// Type is the syntax of its values: "string", "integer", "boolean",
	// "size" or "duration".
	Type string
	// Allowed describes the values the enum, min and max tags allow
	// ("fs, s3, memory", "1..64", "> 0s"), or is "" if they do not
	// restrict it (Validate may still check its form).
	Allowed string
	// Default is the default value, formatted as the file and environment
	// accept it.
	Default string
	// Secret is true for credentials, which logs never show.
	Secret bool

	index   []int    // of the field in Config
	enum    []string // allowed values, if restricted to a list
	minimum *bound   // inclusive or exclusive lower bound, if any
	maximum *bound   // inclusive upper bound, if any
}

// bound is a numeric limit of an int, Size or Duration key.
type bound struct {
	n         int64
	text      string // as written in the tag, without '>'
	exclusive bool
}

// Keys returns every configuration key, in the order of the Config struct.
func Keys() []Key { return slices.Clone(table()) }

// table is built once from the Config struct's tags and never changed.
var table = sync.OnceValue(func() []Key {
	var keys []Key
	buildKeys(reflect.TypeFor[Config](), "", nil, &keys)
	seen := make(map[string]string)
	defaults := reflect.ValueOf(Default())
	for i := range keys {
		k := &keys[i]
		if other, dup := seen[k.Env]; dup {
			panic(fmt.Sprintf("config: keys %s and %s share the environment variable %s", other, k.Name, k.Env))
		}
		seen[k.Env] = k.Name
		k.Default = formatValue(defaults.FieldByIndex(k.index))
	}
	return keys
})

// keyNames returns the names of every key.
func keyNames() []string {
	var names []string
	for _, k := range table() {
		names = append(names, k.Name)
	}
	return names
}

// EnvName returns the environment variable of the key at the dotted path
// name.
func EnvName(name string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, ".", "_"))
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// isSection reports whether a field of type t is a table of keys rather than
// one key.
func isSection(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(textUnmarshaler)
}

func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "" {
		panic(fmt.Sprintf("config: field %s has no toml tag", f.Name))
	}
	return name
}

// buildKeys appends a Key for every leaf field of the struct type t, whose
// path is prefix and index within Config is index. Mistakes in the tags are
// programming errors and panic, so any test catches them.
func buildKeys(t reflect.Type, prefix string, index []int, keys *[]Key) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := prefix + tomlName(f)
		idx := append(slices.Clone(index), i)
		if isSection(f.Type) {
			buildKeys(f.Type, name+".", idx, keys)
			continue
		}
		k := Key{
			Name:   name,
			Env:    EnvName(name),
			Doc:    f.Tag.Get("doc"),
			Type:   typeName(f.Type),
			Secret: f.Tag.Get("secret") == "true",
			index:  idx,
		}
		if k.Doc == "" {
			panic(fmt.Sprintf("config: key %s has no doc tag", name))
		}
		if k.Secret && f.Type.Kind() != reflect.String {
			panic(fmt.Sprintf("config: secret key %s is not a string", name))
		}
		if e := f.Tag.Get("enum"); e != "" {
			k.enum = strings.Split(e, ",")
			k.Allowed = strings.Join(k.enum, ", ")
		}
		k.minimum = parseBound(k, f.Type, f.Tag.Get("min"))
		k.maximum = parseBound(k, f.Type, f.Tag.Get("max"))
		if k.maximum != nil && k.maximum.exclusive {
			panic(fmt.Sprintf("config: key %s: max cannot be exclusive", name))
		}
		switch lo, hi := k.minimum, k.maximum; {
		case lo != nil && hi != nil:
			k.Allowed = lo.text + ".." + hi.text
		case lo != nil && lo.exclusive:
			k.Allowed = "> " + lo.text
		case lo != nil:
			k.Allowed = ">= " + lo.text
		case hi != nil:
			k.Allowed = "<= " + hi.text
		}
		*keys = append(*keys, k)
	}
}

func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[Size]():
		return "size"
	case reflect.TypeFor[Duration]():
		return "duration"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int:
		return "integer"
	case reflect.Bool:
		return "boolean"
	}
	panic(fmt.Sprintf("config: unsupported key type %s", t))
}

// parseBound parses a min or max tag in the syntax of the field's type.
func parseBound(k Key, t reflect.Type, tag string) *bound {
	if tag == "" {
		return nil
	}
	if t.Kind() != reflect.Int && t.Kind() != reflect.Int64 {
		panic(fmt.Sprintf("config: key %s: min/max on a %s", k.Name, k.Type))
	}
	b := &bound{}
	tag, b.exclusive = strings.CutPrefix(tag, ">")
	v := reflect.New(t).Elem()
	if err := parseInto(v, tag); err != nil {
		panic(fmt.Sprintf("config: key %s: bad bound %q: %v", k.Name, tag, err))
	}
	b.n = v.Int()
	b.text = formatValue(v)
	return b
}

// field returns the settable field of key k in *c.
func (k Key) field(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByIndex(k.index)
}

// set parses s in the key's syntax into c. The error says what s is not
// ("an integer"), to follow `"abc" is not `.
func (k Key) set(c *Config, s string) error {
	return parseInto(k.field(c), s)
}

// errNotInt and friends finish the sentence `"x" is not ...`.
var (
	errNotInt  = errors.New("an integer")
	errNotBool = errors.New("a boolean (true or false)")
)

// parseInto parses s into v according to v's type.
func parseInto(v reflect.Value, s string) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := u.UnmarshalText([]byte(s)); err != nil {
			var se syntaxError
			if errors.As(err, &se) {
				return errors.New(se.expected)
			}
			return err
		}
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Int:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, strconv.IntSize)
		if err != nil {
			return errNotInt
		}
		v.SetInt(n)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return errNotBool
		}
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("config: unsupported key type %s", v.Type()))
	}
	return nil
}

// formatValue formats a key's value as the file and environment accept it.
func formatValue(v reflect.Value) string {
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, err := m.MarshalText()
		if err != nil {
			return fmt.Sprintf("!%v", err)
		}
		return string(b)
	}
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Int:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	}
	return fmt.Sprint(v.Interface())
}

// KeyError is an invalid value of one key.
type KeyError struct {
	Key string // dotted path, e.g. "storage.kind"
	Env string // its environment variable
	Msg string // what is wrong and what is allowed
}

func (e *KeyError) Error() string { return e.Key + " (" + e.Env + "): " + e.Msg }

func (k Key) errorf(format string, args ...any) error {
	return &KeyError{Key: k.Name, Env: k.Env, Msg: fmt.Sprintf(format, args...)}
}

// check reports a value outside the key's enum or range.
func (k Key) check(c *Config) error {
	v := k.field(c)
	if k.enum != nil && !slices.Contains(k.enum, v.String()) {
		return k.errorf("%q is not one of %s", v.String(), k.Allowed)
	}
	if k.minimum == nil && k.maximum == nil {
		return nil
	}
	n := v.Int()
	low := k.minimum != nil && (n < k.minimum.n || k.minimum.exclusive && n == k.minimum.n)
	high := k.maximum != nil && n > k.maximum.n
	if low || high {
		return k.errorf("%s is out of range; allowed: %s", formatValue(v), k.Allowed)
	}
	return nil
}
