// Package textfmt formats and reads text for dxf: JSON exactly as the
// Python tool printed it (PyJSON), network text made safe to print
// (Escape, ListedName), the nearest of some names to a mistyped one
// (Closest), the notice of a wait a registry asked for (RetryWait), and
// sizes and byte ranges written for people (ParseSize, ParseRange), and
// the reports of the library's results the command prints (Files, Check,
// DeleteReport, DeletedAlias, PlatformDigests).
package textfmt

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
)

// PyJSON encodes v exactly as Python's json.dumps(v, sort_keys=True) does
// with its defaults: ", " and ": " separators, keys sorted by code point,
// and every character outside printable ASCII escaped as \uXXXX (surrogate
// pairs above U+FFFF). The Python tool printed multi-platform results this
// way, and scripts may compare them byte for byte.
//
// v may hold strings, integers, booleans, nil, slices and maps with string
// keys, nested freely; anything else is a programming error and panics.
func PyJSON(v any) string {
	var b strings.Builder
	writePyJSON(&b, reflect.ValueOf(v))
	return b.String()
}

func writePyJSON(b *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Invalid:
		b.WriteString("null")
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		writePyJSON(b, v.Elem())
	case reflect.String:
		writePyString(b, v.String())
	case reflect.Bool:
		if v.Bool() {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		b.WriteString(strconv.FormatUint(v.Uint(), 10))
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			// A nil slice is an empty list to the caller, not None.
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyJSON(b, v.Index(i))
		}
		b.WriteByte(']')
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			panic(fmt.Sprintf("PyJSON: map keys must be strings, not %s", v.Type().Key()))
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		// Go compares strings bytewise, which for UTF-8 is code point
		// order: the order Python sorts str keys in.
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyString(b, k)
			b.WriteString(": ")
			writePyJSON(b, v.MapIndex(reflect.ValueOf(k).Convert(v.Type().Key())))
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("PyJSON: cannot encode a %s", v.Type()))
	}
}

// writePyString writes s as a JSON string with Python's ensure_ascii
// escapes (lowercase hex, as Python writes them).
func writePyString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= 0x20 && r < 0x7f:
				b.WriteRune(r)
			case r > 0xffff:
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
			default:
				fmt.Fprintf(b, `\u%04x`, r)
			}
		}
	}
	b.WriteByte('"')
}
