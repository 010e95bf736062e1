package openapitest

import (
	"fmt"
	"slices"
	"strconv"
)

// Conforms checks that v, a value decoded by encoding/json into an any, has every
// property s requires, recursively through objects, arrays and allOf, the JSON type s
// declares and, for strings, one of its enum. Properties s does not declare are allowed.
// The error names where v goes wrong, from "$".
func (d *Document) Conforms(s *Schema, v any) error {
	return d.conforms(s, v, "$")
}

func (d *Document) conforms(s *Schema, v any, at string) error {
	s, err := d.Schema(s)
	if err != nil || s == nil {
		return err
	}
	for _, sub := range s.AllOf {
		if err := d.conforms(sub, v, at); err != nil {
			return err
		}
	}
	switch s.Type {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: not an object", at)
		}
		for _, p := range s.Required {
			if _, ok := obj[p]; !ok {
				return fmt.Errorf("%s: required property %q missing", at, p)
			}
		}
		for name, ps := range s.Properties {
			if pv, ok := obj[name]; ok {
				if err := d.conforms(ps, pv, at+"."+name); err != nil {
					return err
				}
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: not an array", at)
		}
		for i, e := range arr {
			if err := d.conforms(s.Items, e, at+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: not a string", at)
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			return fmt.Errorf("%s: %q not in %q", at, str, s.Enum)
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != float64(int64(f)) {
			return fmt.Errorf("%s: not an integer", at)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: not a number", at)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: not a boolean", at)
		}
	}
	return nil
}
