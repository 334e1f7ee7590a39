package redact

// detect runs the detector of anchor number an, whose literal starts at
// at. It returns the credential's span and shape index when matched, and
// the earliest byte the candidate may start at when it needs more text.
func detect[T text](t T, at int, an int16, final bool) (start, end, shape int, st status) {
	c := &cursor[T]{t: t, i: at, final: final}
	switch anchors[an].kind {
	case kindSK:
		shape, st = detectSK(c)
	case kindGitHub:
		c.i += len("ghp_")
		shape, st = shapeGitHub, c.result(c.run(clsAlnum, 36, 0))
	case kindGitHubPAT:
		c.i += len("github_pat_")
		shape, st = shapeGitHub, c.result(c.run(clsAlnumUnder, 22, 0))
	case kindSlack:
		c.i += len("xoxb-")
		body := c.i
		ok := c.run(clsSlack, 20, 0) && hasDigit(t, body, c.i)
		shape, st = shapeSlack, c.result(ok)
	case kindAWS:
		c.i += len("AKIA")
		shape, st = shapeAWS, c.result(c.run(clsUpperNum, 16, 16))
	case kindJWT:
		shape, st = shapeJWT, c.result(c.lit("eyJ") && c.run(clsB64URL, 7, 0) && c.lit(".") &&
			c.lit("eyJ") && c.run(clsB64URL, 7, 0) && c.lit(".") && c.run(clsB64URL, 0, 0))
	case kindPEM:
		shape, st = shapePEM, detectPEM(c)
	case kindDiscord:
		shape, st = shapeDiscord, detectDiscord(c)
	}
	return at, c.i, shape, st
}

// detectSK reads sk-ant-… (Anthropic), sk-proj-… and its siblings, or a
// legacy sk- plus 32 or more letters and digits (OpenAI).
func detectSK[T text](c *cursor[T]) (int, status) {
	c.i += len("sk-")
	if c.lit("ant-") {
		return shapeAnthropic, c.result(c.run(clsB64URL, 20, 0))
	}
	for _, p := range [...]string{"proj-", "svcacct-", "admin-", "None-"} {
		if c.lit(p) {
			return shapeOpenAI, c.result(c.run(clsB64URL, 20, 0))
		}
	}
	return shapeOpenAI, c.result(c.run(clsAlnum, 32, 0))
}

// detectPEM reads a "-----BEGIN … PRIVATE KEY-----" header, then the body
// up to and including the matching END line. Without an END line, the
// header and the run of body characters after it are the match.
func detectPEM[T text](c *cursor[T]) status {
	c.i += len("-----BEGIN")
	h := c.i
	if !c.run(clsPEMHeader, 1, 64) || !contains(c.t, h, c.i, "PRIVATE KEY") || !c.lit("-----") {
		return c.result(false)
	}
	body := c.i
	c.run(clsPEMBody, 0, 0)
	q := index(c.t, body, c.i, "-----END")
	if q < 0 {
		return c.result(true) // unterminated: the header and the body run
	}
	c.more = false
	c.i = q + len("-----END")
	c.run(clsPEMHeader, 0, 64)
	c.lit("-----")
	return c.result(true)
}

// detectDiscord reads a bot token: base64url of a decimal user id (17 to
// 20 digits), ".", 6 characters, ".", 27 characters or more.
func detectDiscord[T text](c *cursor[T]) status {
	id := c.i
	ok := c.run(clsB64URL, 23, 27) && decimalB64(c.t, id, c.i) &&
		c.lit(".") && c.run(clsB64URL, 6, 6) && c.lit(".") && c.run(clsB64URL, 27, 0)
	return c.result(ok)
}

// decimalB64 reports whether t[i:j] is unpadded base64url of 17 to 20
// ASCII digits.
func decimalB64[T text](t T, i, j int) bool {
	var acc, bits, digits int
	for ; i < j; i++ {
		v := b64Value(t[i])
		if v < 0 {
			return false
		}
		acc, bits = acc<<6|v, bits+6
		if bits >= 8 {
			bits -= 8
			if d := acc >> bits; d < '0' || d > '9' {
				return false
			}
			acc &= 1<<bits - 1
			digits++
		}
	}
	return bits < 6 && digits >= 17 && digits <= 20
}

func b64Value(b byte) int {
	switch {
	case b >= 'A' && b <= 'Z':
		return int(b - 'A')
	case b >= 'a' && b <= 'z':
		return int(b-'a') + 26
	case b >= '0' && b <= '9':
		return int(b-'0') + 52
	case b == '-':
		return 62
	case b == '_':
		return 63
	}
	return -1
}

func hasDigit[T text](t T, i, j int) bool {
	for ; i < j; i++ {
		if t[i] >= '0' && t[i] <= '9' {
			return true
		}
	}
	return false
}

// index returns the first position of s in t[i:j], or -1.
func index[T text](t T, i, j int, s string) int {
	for ; i+len(s) <= j; i++ {
		if t[i] == s[0] && string(t[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}

func contains[T text](t T, i, j int, s string) bool { return index(t, i, j, s) >= 0 }
