package files

import (
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxNameBytes is the longest file name accepted, in bytes of UTF-8: what
// common file systems allow for one path element.
const MaxNameBytes = 255

// CheckName returns a file name as it is kept (NFC-normalised) or, when it
// could not safely be offered back as a download's name on any system, a
// reason, Chinese first. The name is only ever shown and offered in
// Content-Disposition; objects are stored under keys of their own, so a
// name never reaches a path. It is refused rather than repaired, so what
// the uploader sees is what was kept.
func CheckName(name string) (string, string) {
	if name == "" {
		return "", "文件名不能为空 (the name is empty)"
	}
	if !utf8.ValidString(name) {
		return "", "文件名不是有效的 UTF-8 (the name is not valid UTF-8)"
	}
	name = norm.NFC.String(name)
	if len(name) > MaxNameBytes {
		return "", "文件名过长，最多 255 字节 (the name is longer than 255 bytes)"
	}
	if name == "." || name == ".." {
		return "", "文件名不能是 . 或 .. (the name must not be . or ..)"
	}
	for _, r := range name {
		switch {
		case r == 0:
			return "", "文件名不能包含空字符 (the name must not contain NUL)"
		case r == '/' || r == '\\':
			return "", "文件名不能包含路径分隔符 / 或 \\ (the name must not contain a path separator)"
		case strings.ContainsRune(`<>:"|?*`, r):
			return "", `文件名不能包含 < > : " | ? * (the name must not contain < > : " | ? *)`
		case unicode.IsControl(r):
			return "", "文件名不能包含控制字符 (the name must not contain control characters)"
		case r == utf8.RuneError:
			return "", "文件名包含无法识别的字符 (the name contains a replacement character)"
		case unicode.Is(unicode.Cf, r) && r != '\u200c' && r != '\u200d':
			// Bidirectional overrides make "gpj.exe" read as "exe.jpg";
			// zero-width joiners stay, emoji and some scripts need them.
			return "", "文件名不能包含不可见的格式字符 (the name must not contain invisible format characters)"
		case unicode.Is(unicode.Co, r) || unicode.Is(unicode.Cs, r):
			return "", "文件名包含私用或代理字符 (the name contains private-use or surrogate characters)"
		}
	}
	if name[0] == '.' {
		return "", "文件名不能以 . 开头 (the name must not start with a dot)"
	}
	first, _ := utf8.DecodeRuneInString(name)
	last, _ := utf8.DecodeLastRuneInString(name)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return "", "文件名首尾不能有空白 (the name must not start or end with white space)"
	}
	if last == '.' {
		// Windows drops trailing dots: "a.exe." is saved as "a.exe".
		return "", "文件名不能以 . 结尾 (the name must not end with a dot)"
	}
	if windowsReserved(name) {
		return "", "文件名是 Windows 保留名，如 CON、NUL、COM1 (the name is reserved on Windows, such as CON, NUL, COM1)"
	}
	return name, ""
}

// windowsReserved reports whether Windows treats name as a device: CON,
// PRN, AUX, NUL, COM0–9, LPT0–9 (and their superscript-digit forms),
// CONIN$ and CONOUT$, in any case, with or without an extension, and with
// spaces before the dot.
func windowsReserved(name string) bool {
	base, _, _ := strings.Cut(name, ".")
	base = strings.ToUpper(strings.TrimRight(base, " "))
	switch base {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	if len(base) > 3 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) {
		d := base[3:]
		if len(d) == 1 && d[0] >= '0' && d[0] <= '9' {
			return true
		}
		switch d {
		case "¹", "²", "³":
			return true
		}
	}
	return false
}

// disposition is the Content-Disposition a download carries: always an
// attachment, so a browser saves the file instead of rendering it, with
// the name in RFC 2231 form when it is not plain ASCII.
func disposition(name string) string {
	if d := mime.FormatMediaType("attachment", map[string]string{"filename": name}); d != "" {
		return d
	}
	return "attachment"
}
