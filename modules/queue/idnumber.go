package queue

import (
	"errors"
	"strings"
	"time"
)

// Resident ID numbers (居民身份证号码, GB 11643-1999): six digits of the
// region of first registration, the birth date as YYYYMMDD, a three-digit
// sequence and a check character over the first 17, computed with ISO 7064
// MOD 11-2 — a digit or X.

// ErrIDNumber is what every refusal of an ID number is (errors.Is).
var ErrIDNumber = errors.New("queue: not a resident ID number")

// IDNumberError says how an ID number is wrong.
type IDNumberError struct {
	// Reason is for people: zh-CN first.
	Reason string
}

func (e *IDNumberError) Error() string { return ErrIDNumber.Error() + ": " + e.Reason }

// Is makes an IDNumberError an ErrIDNumber.
func (e *IDNumberError) Is(target error) bool { return target == ErrIDNumber }

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// ParseIDNumber checks an 18-character resident ID number and returns it
// normalised (a lower-case x made upper case). It checks the form, the
// birth date (a real day, not after today) and the check character; that a
// number passes says it is well formed, not that it was issued.
func ParseIDNumber(s string, today time.Time) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return "", &IDNumberError{Reason: "须为 18 位 (must be 18 characters)"}
	}
	sum := 0
	for i := range 17 {
		c := s[i]
		if c < '0' || c > '9' {
			return "", &IDNumberError{Reason: "前 17 位须为数字 (the first 17 characters must be digits)"}
		}
		sum += int(c-'0') * idWeights[i]
	}
	if last := s[17]; (last < '0' || last > '9') && last != 'X' {
		return "", &IDNumberError{Reason: "末位须为数字或 X (the last character must be a digit or X)"}
	}
	birth, err := time.ParseInLocation("20060102", s[6:14], today.Location())
	if err != nil || birth.Year() < 1900 || birth.After(today) {
		return "", &IDNumberError{Reason: "出生日期无效 (the birth date is not a real date)"}
	}
	if idCheckChars[sum%11] != s[17] {
		return "", &IDNumberError{Reason: "校验位不符 (the check character does not match)"}
	}
	return s, nil
}

// MaskIDNumber hides digits 7–14 (the birth date) of an ID number, as
// public output must: 110105********1234.
func MaskIDNumber(id string) string {
	if len(id) != 18 {
		return strings.Repeat("*", len(id))
	}
	return id[:6] + "********" + id[14:]
}
