// Command embedgen writes the two files the provider embeds: the module's schema.json with "version" set, and its
// terraform-mapping.json, both re-marshalled compactly.
//
// Usage: embedgen <dir holding schema.json and terraform-mapping.json> <version> <output dir>
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

func compact(path string, edit func(map[string]any)) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	edit(doc)
	return json.Marshal(doc)
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: embedgen <source dir> <version> <output dir>")
		os.Exit(2)
	}
	src, version, out := os.Args[1], os.Args[2], os.Args[3]
	files := []struct {
		in, out string
		edit    func(map[string]any)
	}{
		{"schema.json", "schema-embed.json", func(d map[string]any) { d["version"] = version }},
		{"terraform-mapping.json", "terraform-mapping-embed.json", func(map[string]any) {}},
	}
	for _, f := range files {
		data, err := compact(filepath.Join(src, f.in), f.edit)
		if err == nil {
			err = os.WriteFile(filepath.Join(out, f.out), data, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "embedgen:", err)
			os.Exit(1)
		}
	}
}
