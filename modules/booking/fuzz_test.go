package booking_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"yamen/modules/booking"
)

// MaskPhone takes a phone number from outside (a Kratos trait): whatever
// it is, the mask keeps its length and never shows digits 4–7.
func FuzzMaskPhone(f *testing.F) {
	for _, s := range []string{"+8613800138000", "13800138000", "", "+86", "12", "䶮𠀀䶮𠀀䶮𠀀䶮𠀀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, phone string) {
		if !utf8.ValidString(phone) {
			return
		}
		got := booking.MaskPhone(phone)
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(phone) {
			t.Fatalf("MaskPhone(%q) = %q: length changed", phone, got)
		}
		rest := []rune(strings.TrimPrefix(got, "+86"))
		for i := 3; i < 7 && i < len(rest); i++ {
			if rest[i] != '*' {
				t.Fatalf("MaskPhone(%q) = %q: digit %d shown", phone, got, i+1)
			}
		}
	})
}
