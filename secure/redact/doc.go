// Package redact is Airlock's redactor: the one engine that scrubs secret
// values from everything leaving the system side (LLM requests, tool and
// script results, logs, chat replies, audit details, API errors).
//
// New compiles named secrets into an immutable Redactor. String, Bytes and
// the streaming Writer replace every occurrence of a secret, in any
// covered encoding, with "[REDACTED:NAME]", and every credential a shape
// detector recognises with the shape's marker. Holder lets the vault swap
// in a rebuilt Redactor atomically; NewHandler applies the current one to
// every slog record.
//
// Matching is one pass: an Aho-Corasick automaton holds every pattern
// (each secret's variants and the detectors' anchors), and a Bloom
// prefilter on the first four and eight bytes of the patterns skips the
// bytes where none can start. The result is exactly that of running the
// automaton over every byte.
//
// # Covered encodings
//
// For each value v (8 bytes to 16 KiB), the patterns are v itself and,
// where they differ from v:
//
//   - base64, standard and URL alphabets, each with and without padding;
//   - for each alphabet, the inner part of the base64 of v when v starts
//     k = 0, 1 or 2 bytes (mod 3) into a longer encoded blob: the
//     characters all of whose bits come from v. The character just before
//     or after such a match, when it is a base64 character, carries bits
//     of v too (mixed with its neighbour's) and is redacted with it, so no
//     bit of v survives;
//   - hex, lower and upper case;
//   - url.QueryEscape(v) and url.PathEscape(v);
//   - v as encoding/json writes it inside a string, with the HTML-safe
//     escapes (\u003c, \u003e, \u0026) and without them, and the
//     ASCII-only form (every non-ASCII rune as \uXXXX, as Python writes
//     it) in lower- and upper-case hex;
//   - v with every rune written as a JSON \uXXXX escape (\u0073\u006b…),
//     lower- and upper-case hex: the spelling that hides a value from a
//     plain match while any JSON decoder restores it.
//
// Not covered: other encodings (base32, lower-case percent escapes, MIME
// base64 broken into lines, JSON escaped twice, JSON with only some
// characters escaped, compression, case changes) and values cut into
// pieces. Where text is JSON, decode it and redact the strings (as the
// orchestrator does with tool-call arguments): no escape survives that.
//
// # Shapes
//
// Detectors recognise OpenAI keys (sk-proj-, sk-svcacct-, sk-admin-,
// sk-None- and legacy sk- plus 32 or more letters and digits), Anthropic
// keys (sk-ant-), GitHub tokens (ghp_ gho_ ghu_ ghs_ ghr_ github_pat_),
// Slack tokens (xox[abposr]-), AWS access key ids (AKIA or ASIA plus 16),
// Discord bot tokens (base64 of a 17-20 digit id, then 6 and 27 or more
// characters, dot separated), JWTs (eyJ….eyJ….signature) and PEM private
// keys (BEGIN … PRIVATE KEY through the END line, or through the base64
// body when the END line is missing).
//
// # Overlaps
//
// Overlapping matches are united and the union is replaced by one marker:
// a known secret's rather than a shape's, then the leftmost match's, then
// the longest's. A secret inside another is reported under the outer
// name; adjacent secrets get one marker each.
//
// # Invariants
//
//   - No pattern of any secret survives in the output. Matches are united
//     and replaced, and a marker cannot complete a pattern: New refuses a
//     value that is part of a marker's text or holds a whole marker, and
//     when a pattern starts with the tail of a marker (such as "]") or
//     ends with its head (such as "["), the rest of it is a pattern too,
//     and must be 8 bytes or more.
//   - Redaction is idempotent: String(String(x)) == String(x).
//   - The Writer's output equals String of the whole stream, however it
//     is cut (see Writer for the bounds). It holds back only the tail that
//     may still begin a pattern (the automaton's state tells how long),
//     so long patterns cost a stream no delay on ordinary text.
//   - A nil *Redactor, a zero Holder and New(nil) redact shapes only.
//   - Errors and Secret's renderings name secrets, never their values.
package redact
