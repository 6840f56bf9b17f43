package portal

// savePrefs remembers the language and the elderly-friendly mode (适老化)
// in this browser, then goes back to the page the switch was pressed on.
func (p *Portal) savePrefs(v *view) error {
	const year = 365 * 24 * 3600
	switch v.r.PostFormValue("lang") {
	case langEN:
		setCookie(v.w, v.r, cookieLang, langEN, year, laxCookie)
	case langZH:
		setCookie(v.w, v.r, cookieLang, langZH, year, laxCookie)
	}
	switch v.r.PostFormValue("elder") {
	case "1":
		setCookie(v.w, v.r, cookieElder, "1", year, laxCookie)
	case "0":
		setCookie(v.w, v.r, cookieElder, "0", year, laxCookie)
	}
	return v.redirect(safeReturn(v.r.PostFormValue("return")))
}
