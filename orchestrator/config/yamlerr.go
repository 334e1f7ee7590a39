package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// keyNode is one key of the YAML document with its dotted path.
type keyNode struct {
	path       string
	key, value *yaml.Node
}

// indexKeys lists every mapping key under n, depth first.
func indexKeys(n *yaml.Node, prefix string) []keyNode {
	var out []keyNode
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if prefix != "" {
				p = prefix + "." + k.Value
			}
			out = append(out, keyNode{path: p, key: k, value: v})
			out = append(out, indexKeys(v, p)...)
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			out = append(out, indexKeys(e, fmt.Sprintf("%s[%d]", prefix, i))...)
		}
	}
	return out
}

// refuseInlineSecrets fails on keys that look like a credential written
// into the file, pointing to the supported alternative. The value is never
// echoed.
func refuseInlineSecrets(file string, keys []keyNode) error {
	for _, k := range keys {
		name := strings.ToLower(k.key.Value)
		if strings.HasSuffix(name, "_file") {
			continue
		}
		words := strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' })
		var hint string
		switch {
		case slices.Contains(words, "master") && slices.Contains(words, "key"):
			hint = "set master_key_file or AIRLOCK_MASTER_KEY_FILE"
		case slices.Contains(words, "key") || slices.Contains(words, "apikey"):
			hint = "put the key in a file only the orchestrator can read and set llm.api_key_file, or set AIRLOCK_LLM_API_KEY or AIRLOCK_LLM_API_KEY_FILE"
		case slices.Contains(words, "token"):
			hint = "set DISCORD_TOKEN or DISCORD_TOKEN_FILE, or store the token in the admin UI"
		case slices.Contains(words, "password") || slices.Contains(words, "secret") || slices.Contains(words, "secrets"):
			hint = "store secrets in the vault through the admin UI"
		default:
			continue
		}
		return fmt.Errorf("config: %s line %d: %q: secrets must not be written in the config file; %s",
			file, k.key.Line, k.path, hint)
	}
	return nil
}

var (
	lineRe    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownRe = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	typeRe    = regexp.MustCompile("^cannot unmarshal (\\S+)(?: `(.*)`)? into (\\S+)$")
)

// translate rewrites a yaml decoding error with key paths and full values.
func translate(file string, keys []keyNode, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("config: %s: %w", file, err)
	}
	errs := make([]error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		errs = append(errs, translateOne(file, keys, msg))
	}
	return errors.Join(errs...)
}

func translateOne(file string, keys []keyNode, msg string) error {
	m := lineRe.FindStringSubmatch(msg)
	if m == nil {
		return fmt.Errorf("config: %s: %s", file, msg)
	}
	line, _ := strconv.Atoi(m[1])
	if u := unknownRe.FindStringSubmatch(m[2]); u != nil {
		path := u[1]
		for _, k := range keys {
			if k.key.Line == line && k.key.Value == u[1] {
				path = k.path
				break
			}
		}
		return fmt.Errorf("config: %s line %d: unknown key %q", file, line, path)
	}
	if t := typeRe.FindStringSubmatch(m[2]); t != nil {
		scalar := t[1] != "!!seq" && t[1] != "!!map"
		for _, k := range keys {
			if k.value.Line != line || (k.value.Kind == yaml.ScalarNode) != scalar {
				continue
			}
			if !scalar || strings.HasPrefix(k.value.Value, strings.TrimSuffix(t[2], "...")) {
				return badValue(file, line, k, t[3])
			}
		}
	}
	return fmt.Errorf("config: %s line %d: %s", file, line, m[2])
}

// badValue describes a value of the wrong type for its key.
func badValue(file string, line int, k keyNode, goType string) error {
	where := fmt.Sprintf("(%s line %d)", file, line)
	if k.value.Kind != yaml.ScalarNode {
		return fmt.Errorf("config: %s: want %s %s", k.path, describe(goType), where)
	}
	if goType == "time.Duration" {
		return fmt.Errorf("config: %s: invalid duration %q, want e.g. \"30s\" or \"5m\" %s", k.path, k.value.Value, where)
	}
	return fmt.Errorf("config: %s: invalid value %q, want %s %s", k.path, k.value.Value, describe(goType), where)
}

func describe(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "config."):
		return "a mapping of keys"
	}
	return goType
}
