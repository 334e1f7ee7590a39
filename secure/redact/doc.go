// Package redact is Airlock's redactor: the one engine that scrubs secret
// values from everything leaving the system side (LLM requests, tool and
// script results, logs, chat replies, audit details, API errors).
//
// A Redactor is compiled by New from named secrets. It replaces every
// occurrence of a secret, in any covered encoding, with "[REDACTED:NAME]",
// and every credential a shape detector recognises with the shape's
// marker. It reads its input once: one Aho-Corasick automaton holds every
// pattern (each secret's variants and the detectors' anchors), and a
// two-stage Bloom prefilter skips the bytes where no pattern can start.
//
// # Covered encodings
//
// For each value v (8 bytes to 16 KiB), the patterns are v itself and,
// where they differ from v:
//
//   - base64, standard and URL alphabets, each with and without padding;
//   - for each alphabet, the inner part of the base64 of v when v starts
//     k = 0, 1 or 2 bytes (mod 3) into a longer encoded blob: the
//     characters all of whose bits come from v. When the character just
//     before or after such a match is a base64 character, it carries bits
//     of v too (mixed with its neighbour's) and is redacted with it, so no
//     bit of v survives;
//   - hex, lower and upper case;
//   - url.QueryEscape(v) and url.PathEscape(v);
//   - v as encoding/json writes it inside a string, with the HTML-safe
//     escapes (\u003c, \u003e, \u0026) and without them, and the ASCII-only
//     form (every non-ASCII rune as \uXXXX, as Python writes it).
//
// Not covered: other encodings (base32, lower-case percent escapes, MIME
// base64 broken into lines, JSON escaped twice, compression, case
// changes), and values cut into pieces.
//
// # Shapes
//
// Detectors recognise OpenAI keys (sk-proj-, sk-svcacct-, sk-admin-,
// sk-None- and legacy sk- plus 32+ letters and digits), Anthropic keys
// (sk-ant-), GitHub tokens (ghp_ gho_ ghu_ ghs_ ghr_ github_pat_), Slack
// tokens (xox[abposr]-), AWS access key ids (AKIA/ASIA plus 16), Discord
// bot tokens (base64 of a 17-20 digit id, 6 and 27+ characters, dot
// separated), JWTs (eyJ….eyJ….signature) and PEM private keys (BEGIN …
// PRIVATE KEY to the END line, or to the end of the base64 body when the
// END line is missing).
//
// # Overlaps
//
// Overlapping matches are united and the union is replaced by one marker:
// a known secret's over a shape's, then the leftmost match's, then the
// longest's. So a secret inside another is reported under the outer name,
// and adjacent secrets get one marker each.
//
// # Invariants
//
//   - The output contains no pattern of any secret: matches are united
//     and replaced, New refuses a value that is part of a marker, holds a
//     whole marker, or leaves fewer than 8 bytes without a leading "]" or a
//     trailing "[" (which a marker could supply), and for the others it
//     also matches what remains once that part is removed.
//   - Redaction is idempotent: String(String(x)) == String(x).
//   - A nil *Redactor, and New(nil), redact shapes only.
//   - Errors name secrets, never their values; so do Secret's renderings.
//   - Values are never logged or returned, and a Redactor is immutable:
//     Holder swaps whole engines atomically.
package redact
